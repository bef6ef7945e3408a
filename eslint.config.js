// Lint rules: the recommended sets of ESLint and typescript-eslint, type-aware,
// plus the rule that keeps the Kafka client behind src/kafka/.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules/', '.cache/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: '@platformatic/kafka', message: 'Only src/kafka/ talks to the Kafka client; import from src/kafka/index.ts.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/kafka/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // Benchmarks measure Sluice against the raw Kafka clients (@platformatic/kafka, kafkajs): that
    // limit is what every Sluice figure is compared to, so it must not go through src/kafka/.
    files: ['bench/kafka-limit.ts', 'bench/stateless.ts', 'bench/source-snapshot.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: { process: 'readonly', console: 'readonly' } },
  },
)
