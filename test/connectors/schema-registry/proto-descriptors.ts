import {
  create as createMessage,
  createFileRegistry,
  createMutableRegistry,
  fromBinary,
  type MutableRegistry,
} from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import pbjs from 'protobufjs';
import descriptorExt from 'protobufjs/ext/descriptor/index.js';

type Descriptor = { name: string; package: string; messageType: Message[] };
type Message = { name: string; field?: { typeName?: string }[]; nestedType?: Message[] };

/**
 * The descriptors Confluent's Protobuf serializer needs (a @bufbuild/protobuf registry), built
 * from .proto text with protobufjs, so the test needs no code generator.
 */
export function protoFileRegistry(
  proto: string,
  fileName: string,
): { files: MutableRegistry; create: (type: string, init: Record<string, unknown>) => never } {
  const root = pbjs.parse(proto, { keepCase: true }).root as unknown as {
    toDescriptor(s: string): { file: Descriptor[] };
  };
  const set = root.toDescriptor('proto3');
  const file = set.file[0]!;
  file.name = fileName;
  // protobufjs writes nested type names relative to their message; descriptors want them fully qualified.
  const qualify = (messages: Message[] | undefined, scope: string) => {
    for (const m of messages ?? []) {
      for (const f of m.field ?? [])
        if (f.typeName && !f.typeName.startsWith('.')) f.typeName = `.${scope}.${m.name}.${f.typeName}`;
      qualify(m.nestedType, `${scope}.${m.name}`);
    }
  };
  qualify(file.messageType, file.package);
  const ext = descriptorExt as unknown as {
    FileDescriptorSet: { encode(s: unknown): { finish(): Uint8Array } };
  };
  const files = createFileRegistry(
    fromBinary(FileDescriptorSetSchema, ext.FileDescriptorSet.encode(set).finish()),
  );
  return {
    files: createMutableRegistry(files),
    create: (type, init) => createMessage(files.getMessage(type)!, init as never) as never,
  };
}
