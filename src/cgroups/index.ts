/** Public surface of the cgroup layer; see docs/cgroups.md. */
export {
  createCgroupManager,
  cgroupManagerFor,
  type CgroupManager,
  type CgroupStats,
  type EffectiveLimits,
  type ManagerOptions,
} from './manager.js';
export {
  planPodCgroups,
  milliToShares,
  sharesToWeight,
  sharesToWeightLinear,
  milliToQuotaUs,
  v1Writes,
  v2Writes,
  INIT_CGROUP,
  DEFAULT_PIDS_MAX,
  CPU_PERIOD_US,
  type PodCgroupPlan,
  type PlannedCgroup,
  type CgroupWrite,
  type CgroupLimits,
  type CgroupVersion,
  type PlanOptions,
} from './plan.js';
export { detectCgroupMode, CGROUP2_SUPER_MAGIC, type CgroupMode } from './detect.js';
export { CgroupWriteError, nodeCgroupFs, type CgroupFs } from './fs.js';
export { collectPodStats, statsRows, type PodStatsSample, type StatsRow } from './stats.js';
