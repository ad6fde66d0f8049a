import type { Output } from '../api/route.ts';
import type { Routes } from '../api/index.ts';

/** The shapes the pages show, straight from the route table. */
export type NodeView = Output<Routes['getNode']>['node'];
export type Job = Output<Routes['getJob']>['job'];
export type JobTask = Job['tasks'][number];
export type Group = Output<Routes['listGroups']>['groups'][number];
export type Environment = Output<Routes['listEnvironments']>['environments'][number];
export type UpdatePlan = Output<Routes['planUpdate']>;
export interface Target {
  nodes?: string[];
  groups?: string[];
  selector?: string;
}
export type Capacity = Output<Routes['getCapacity']>;
export type NodeCapacityView = Capacity['nodes'][number];
export type Size = Output<Routes['listSizes']>['sizes'][number];
export type App = Output<Routes['getApp']>['app'];
