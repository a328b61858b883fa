export {
  SchemaRegistry,
  UnknownSchemaError,
  RegistryUnavailableError,
  type RegistrySchema,
  type SchemaRegistryOptions,
} from './client.js';
export { avro, type AvroOptions } from './avro.js';
export { protobuf, type ProtobufOptions } from './protobuf.js';
export { jsonSchema, type JsonSchemaOptions } from './json-schema.js';
export type { RegistryOption } from './registry-decoder.js';
export type { EncoderRegistryOptions } from './registry-encoder.js';
export { decoderFromUrl, encoderFromUrl, URL_FORMATS } from './url-format.js';
