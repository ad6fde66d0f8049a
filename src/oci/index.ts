/** grim OCI image pipeline: references, registry client, layouts, configs, layer plans (nodes unpack with scripts/node/oci-unpack.sh). */
export * from './digest.ts';
export * from './image-config.ts';
export * from './layer-plan.ts';
export * from './layout.ts';
export * from './media-types.ts';
export * from './platform.ts';
export * from './reference.ts';
export * from './registry-client.ts';
export * from './tar-reader.ts';
export type * from './types.ts';
export * from './www-authenticate.ts';
