/**
 * Brings the Apache Kafka broker's jars from Maven Central into a cache folder, with the machine's
 * Maven. The folder is reused by every later start; a download cut short never counts as installed.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { SluiceError } from '../errors.ts'

const run = promisify(execFile)

/**
 * Apache Kafka 4.2 is the newest line @platformatic/kafka 2.x supports ("3.5.0 to 4.2.0 and
 * equivalent"); 4.2.2 is that line's newest patch release, with the same protocol.
 */
export const DEFAULT_KAFKA_VERSION = '4.2.2'

/** log4j2 binding for the slf4j 1.7 API that the Kafka server logs through. */
const LOG4J_VERSION = '2.25.3'

/** The folder holding the jars of one Kafka version; installs it when it is missing. */
export async function installKafka(home: string, version: string, onProgress: (line: string) => void): Promise<string> {
  const versionDir = join(home, 'kafka', version)
  const libDir = join(versionDir, 'lib')
  const completeMarker = join(versionDir, '.complete')
  if (existsSync(completeMarker)) return libDir

  await requireTool('java', ['-version'], 'Install a Java 17+ runtime (for example `apt-get install openjdk-17-jre-headless`).')
  await requireTool('mvn', ['-v'], 'Install Apache Maven (for example `apt-get install maven`).')
  onProgress(`Fetching Apache Kafka ${version} from Maven Central into ${versionDir} (once; later starts reuse it)`)

  await mkdir(versionDir, { recursive: true })
  const workDir = await mkdtemp(join(versionDir, 'install-'))
  try {
    await writeFile(join(workDir, 'pom.xml'), brokerPom(version))
    await run('mvn', ['-q', '-B', 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${join(workDir, 'lib')}`], {
      cwd: workDir,
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: unknown) => {
      throw new SluiceError('BROKER_SETUP', `Maven could not fetch Apache Kafka ${version}: ${outputOf(error)}`, {
        fix: 'Check that Maven Central is reachable and that the version exists (set KAFKA_VERSION to another 4.x release).',
        cause: error,
      })
    })
    await rm(libDir, { recursive: true, force: true })
    await rename(join(workDir, 'lib'), libDir)
    await writeFile(completeMarker, `${new Date().toISOString()}\n`)
  } finally {
    await rm(workDir, { recursive: true, force: true })
  }
  return libDir
}

/** A throwaway Maven project whose runtime dependencies are exactly the broker's classpath. */
function brokerPom(version: string): string {
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.sluice</groupId>
  <artifactId>local-kafka-broker</artifactId>
  <version>${version}</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${version}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>${LOG4J_VERSION}</version></dependency>
  </dependencies>
</project>
`
}

async function requireTool(command: string, args: string[], fix: string): Promise<void> {
  try {
    await run(command, args)
  } catch (error) {
    throw new SluiceError('BROKER_SETUP', `\`${command}\` is needed to run the local Kafka broker but could not be run`, { fix, cause: error })
  }
}

function outputOf(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string }
    const output = `${stderr ?? ''}${stdout ?? ''}`.trim()
    if (output.length > 0) return output.split('\n').slice(-15).join('\n')
  }
  return String(error)
}
