/** The `container` runtime driver (runc/crun, OCI images, per-instance netns with published ports). */
export { containerCgroupsPath, containerInstanceDir, createContainerDriver } from './driver.ts';
export { createSupervisedContainerDriver } from './supervised.ts';
export type { SupervisedContainerOptions } from './supervised.ts';
export type { ContainerDriverOptions, ContainerHandleData } from './driver.ts';
export { parseLayoutSource, resolveImageSource } from './image-source.ts';
export type { ImageSource } from './image-source.ts';
export * from './network.ts';
export * from './runtime-spec.ts';
