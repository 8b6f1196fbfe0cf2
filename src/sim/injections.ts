// Failure injection and holds: annotations on a VirtualMachine (the Server controller copies a
// Server's sim.kova.io/* annotations there) that make the simulated Nodes fail the way real ones
// can, or stop at a step so that a test can observe it. Each node-side component reads them where
// its real counterpart would fail or dwell, and real virt-controller reports what follows:
//   inject  image-pull-error, image-pull-backoff (kubelet: the launcher pod waits), crash-loop
//           (virt-handler: the domain fails), pvc-not-found (CDI leaves the PVC out), paused,
//           migrating, unknown, no-guest-agent (virt-handler), data-volume-error (CDI)
//   hold    provisioning, volume-binding (CDI: the volume waits for its first consumer, unbound),
//           starting (the kubelet: containers still creating), stopping and terminating
//           (virt-handler, the kubelet: the domain keeps running), migrating (virt-handler: the
//           migration does not complete)
import type { VirtualMachine } from '../kubevirt/types.ts';

/** `sim.kova.io/inject`: make the simulated hypervisor fail or change state this way. */
export const INJECT = 'sim.kova.io/inject';
export const INJECTIONS = ['image-pull-error', 'image-pull-backoff', 'crash-loop', 'pvc-not-found', 'data-volume-error', 'paused', 'migrating', 'unknown', 'no-guest-agent'] as const;
/** `sim.kova.io/hold`: stop the simulation at this step, so a test can observe it. */
export const HOLD = 'sim.kova.io/hold';
export const HOLDS = ['provisioning', 'volume-binding', 'starting', 'stopping', 'terminating', 'migrating'] as const;

/** The VM's sim.kova.io/inject value. */
export const injected = (vm: VirtualMachine | undefined): string | undefined => vm?.metadata.annotations?.[INJECT];
/** Whether a hold keeps a running domain from stopping (the VMI's or the VM's deletion waits). */
export const holdsDomain = (vm: VirtualMachine | undefined): boolean => held(vm) === 'stopping' || held(vm) === 'terminating';
/** The VM's sim.kova.io/hold value. */
export const held = (vm: VirtualMachine | undefined): string | undefined => vm?.metadata.annotations?.[HOLD];
