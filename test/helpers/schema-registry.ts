/**
 * A real Schema Registry for tests: Apicurio Registry 2.4.2 (in-memory storage) speaking the
 * Confluent API at /apis/ccompat/v7, built once from Maven Central and started on a free
 * 127.0.0.1 port per test file.
 *
 * Why Apicurio and why this build: Karapace, the first choice, is not on PyPI (pip finds no
 * version), and Confluent's own registry is not on Maven Central. Apicurio publishes its
 * application only as a Quarkus module, so a small Maven project re-packages it with the
 * quarkus-maven-plugin. 2.4.2.Final is the newest release whose dependencies are all on Maven
 * Central; two of them are not and are worked around here: the JSON Schema library comes from
 * its Central coordinates (com.github.erosb), and the config-index extension, whose build-time
 * half is missing, is replaced by a producer of an empty list of runtime-editable properties.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, open, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { installOnce, sluiceHome } from '../../scripts/lib/install-once.ts'
import { freePort } from './ports.ts'

const run = promisify(execFile)

const APICURIO_VERSION = '2.4.2.Final'
/** The Quarkus release Apicurio 2.4.2 is built with. */
const QUARKUS_VERSION = '2.16.4.Final'

export interface TestSchemaRegistry {
  /** The Confluent-compatible base URL, e.g. `http://127.0.0.1:41234/apis/ccompat/v7`. */
  url: string
  logFile: string
  stop(): Promise<void>
}

/** Builds (first time only) and starts a registry; stop it in an `after` hook. */
export async function startSchemaRegistry(): Promise<TestSchemaRegistry> {
  const appDir = await installRegistry()
  const port = await freePort()
  const logFile = join(appDir, '..', `registry-${port}.log`)
  const log = await open(logFile, 'w')
  const child = spawn('java', ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-jar', join(appDir, `sluice-test-schema-registry-${APICURIO_VERSION}-runner.jar`)], {
    env: { ...process.env, HTTP_PORT: String(port), QUARKUS_HTTP_HOST: '127.0.0.1', QUARKUS_LOG_CONSOLE_LEVEL: 'WARN' },
    stdio: ['ignore', log.fd, log.fd],
  })
  const url = `http://127.0.0.1:${port}/apis/ccompat/v7`
  try {
    await waitUntilReady(child, url, logFile)
  } catch (error) {
    child.kill('SIGKILL')
    await log.close()
    throw error
  }
  return {
    url,
    logFile,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))])
      }
      await log.close()
    },
  }
}

async function waitUntilReady(child: ChildProcess, url: string, logFile: string): Promise<void> {
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the test Schema Registry exited with code ${child.exitCode}; see ${logFile}`)
    try {
      const response = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2000) })
      if (response.ok) return
    } catch {
      // not listening yet
    }
    await sleep(250)
  }
  throw new Error(`the test Schema Registry did not answer within 120 s; see ${logFile}`)
}

/** The folder with the runnable registry; builds it with Maven the first time (about a minute). */
async function installRegistry(): Promise<string> {
  const home = join(sluiceHome(), 'schema-registry', `apicurio-${APICURIO_VERSION}`)
  await installOnce(home, () => build(home, join(home, 'app')))
  return join(home, 'app')
}

async function build(home: string, appDir: string): Promise<void> {
  console.error(`[schema registry] building Apicurio Registry ${APICURIO_VERSION} from Maven Central into ${home} (once; later runs reuse it)`)
  await mkdir(home, { recursive: true })
  const work = await mkdtemp(join(home, 'build-'))
  try {
    const javaDir = join(work, 'src', 'main', 'java', 'dev', 'sluice', 'registry')
    await mkdir(javaDir, { recursive: true })
    await mkdir(join(work, 'src', 'main', 'resources'), { recursive: true })
    await writeFile(join(work, 'pom.xml'), POM)
    await writeFile(join(javaDir, 'DynamicConfigListProducer.java'), CONFIG_LIST_PRODUCER)
    await writeFile(
      join(work, 'src', 'main', 'resources', 'application.properties'),
      // Apicurio's jar carries no bean index; without one Quarkus would find none of its endpoints.
      'quarkus.index-dependency.registry-app.group-id=io.apicurio\nquarkus.index-dependency.registry-app.artifact-id=apicurio-registry-app\n',
    )
    await run('mvn', ['-B', '-q', 'package', '-DskipTests'], { cwd: work, maxBuffer: 64 * 1024 * 1024, timeout: 20 * 60_000 }).catch((error: unknown) => {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string }
      throw new Error(`Maven could not build the test Schema Registry: ${`${stderr ?? ''}${stdout ?? ''}`.split('\n').slice(-20).join('\n')}`)
    })
    await rm(appDir, { recursive: true, force: true })
    await rename(join(work, 'target'), appDir)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

const POM = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.sluice</groupId>
  <artifactId>sluice-test-schema-registry</artifactId>
  <version>${APICURIO_VERSION}</version>
  <properties>
    <maven.compiler.source>17</maven.compiler.source>
    <maven.compiler.target>17</maven.compiler.target>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencyManagement>
    <dependencies>
      <!-- Apicurio's own versions first (okio 3, wire-schema), then Quarkus's for the rest. -->
      <dependency><groupId>io.apicurio</groupId><artifactId>apicurio-registry</artifactId><version>${APICURIO_VERSION}</version><type>pom</type><scope>import</scope></dependency>
      <dependency><groupId>io.quarkus</groupId><artifactId>quarkus-bom</artifactId><version>${QUARKUS_VERSION}</version><type>pom</type><scope>import</scope></dependency>
    </dependencies>
  </dependencyManagement>
  <dependencies>
    <dependency>
      <groupId>io.apicurio</groupId><artifactId>apicurio-registry-app</artifactId><version>${APICURIO_VERSION}</version>
      <exclusions>
        <exclusion><groupId>io.apicurio</groupId><artifactId>apicurio-common-app-components-config-index</artifactId></exclusion>
        <exclusion><groupId>com.github.everit-org.json-schema</groupId><artifactId>org.everit.json.schema</artifactId></exclusion>
      </exclusions>
    </dependency>
    <dependency><groupId>com.github.erosb</groupId><artifactId>everit-json-schema</artifactId><version>1.14.2</version></dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>io.quarkus</groupId><artifactId>quarkus-maven-plugin</artifactId><version>${QUARKUS_VERSION}</version>
        <executions><execution><goals><goal>build</goal></goals></execution></executions>
      </plugin>
    </plugins>
  </build>
</project>
`

const CONFIG_LIST_PRODUCER = `package dev.sluice.registry;

import io.apicurio.common.apps.config.DynamicConfigPropertyList;
import java.util.List;
import javax.enterprise.context.ApplicationScoped;
import javax.enterprise.inject.Produces;

/** Stands in for the build step of Apicurio's config-index extension (not on Maven Central): no runtime-editable properties. */
@ApplicationScoped
public class DynamicConfigListProducer {
    @Produces
    @ApplicationScoped
    public DynamicConfigPropertyList dynamicConfigPropertyList() {
        return new DynamicConfigPropertyList(List.of());
    }
}
`
