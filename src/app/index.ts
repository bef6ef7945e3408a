/** Application: defines topics, runs StreamingDataFrame pipelines, checkpoints them exactly once. */
export { Application } from './application.ts'
export type { ApplicationOptions, ApplicationStats, ProcessingGuarantee } from './application.ts'
export type { AppTopic, ErrorPolicy, TopicConfig, TopicOptions } from './topics.ts'
