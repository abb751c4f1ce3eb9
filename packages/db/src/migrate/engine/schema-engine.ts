import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';

// Only the bits of the WebAssembly global we use: lib ES2023 without DOM does not declare it.
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, unknown>) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let engineClass: Promise<typeof SchemaEngine> | undefined;

/**
 * Prisma's own schema engine compiled to wasm, the same code as the native binary that cannot
 * be downloaded here. The package's entry imports the .wasm as an ES module (needs a Node flag),
 * so we instantiate it by hand, once per process, as Prisma's loader does.
 */
function loadEngineClass(): Promise<typeof SchemaEngine> {
  engineClass ??= (async () => {
    const bindings = await import('@prisma/schema-engine-wasm/schema_engine_bg');
    const wasmFile = path.join(path.dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')), 'schema_engine_bg.wasm');
    const instance = new wasmApi.Instance(new wasmApi.Module(await readFile(wasmFile)), { './schema_engine_bg.js': bindings });
    bindings.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return bindings.SchemaEngine;
  })();
  return engineClass;
}

export interface SchemaFile {
  path: string;
  content: string;
}

export interface OpenEngineOptions {
  schema: SchemaFile;
  adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  log?: (line: string) => void;
}

/** A ready engine; call `free()` when done (it is wasm memory, not garbage-collected). */
export async function openSchemaEngine({ schema, adapterFactory, log }: OpenEngineOptions): Promise<SchemaEngine> {
  const Engine = await loadEngineClass();
  const adapter = bindMigrationAwareSqlAdapterFactory(adapterFactory);
  return Engine.new({ datamodels: [[schema.path, schema.content]] }, (line: string) => log?.(line), adapter);
}
