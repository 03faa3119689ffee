/**
 * Follow changes made outside the app: re-read binfmt_misc every ~2 s and tell the views when
 * anything a person could see changed (another tool registered a handler, systemd-binfmt
 * restarted…); re-check the container engine when Docker's event stream says so (or ends: the
 * daemon stopped), and every ~10 s in any case (it starts, stops, upgrades). Deciding
 * whether something changed is pure (fingerprints); the timers are the edge. What happened to the
 * handlers (one vanished, appeared, turned broken…) is decided by shared/handler-events.ts — the
 * same function `archway watch` prints — and sent as the `handlerEvents` event.
 */
import type { ContainerEngineView } from '../../shared/ipc/contract';
import { handlerEvents } from '../../shared/handler-events';
import type { Status } from '../../shared/status';
import type { Emit } from './router';

/** Two statuses that would render the same have the same fingerprint. */
export function statusFingerprint(s: Status): string {
  return JSON.stringify(s);
}

/** Engine views differ when what is shown differs (not when only the check time moved). */
export function containerEngineFingerprint(v: ContainerEngineView): string {
  return v.state === 'connected' ? JSON.stringify(['up', v.info]) : JSON.stringify(['down', v.error.code, v.error.message]);
}

/** Remembers the last fingerprint; `changed` says whether this value is new. */
export function changeDetector<T>(fingerprint: (v: T) => string) {
  let last: string | undefined;
  return {
    changed(v: T): boolean {
      const f = fingerprint(v);
      if (f === last) return false;
      last = f;
      return true;
    },
    reset() {
      last = undefined;
    },
  };
}

export interface LiveDeps {
  readStatus: () => Status;
  readContainerEngine: () => Promise<ContainerEngineView>;
  /** Push notifications that the engine may have changed (Docker's event stream); returns the unsubscribe. */
  watchContainerEngine?: (onChange: () => void) => () => void;
  emit: Emit;
  statusIntervalMs?: number;
  containerEngineIntervalMs?: number;
  onError?: (err: unknown) => void;
  /** The time stamped on handler events (default: now, ISO 8601). */
  now?: () => string;
}

export interface Live {
  /** Check now (after the app changed something itself). */
  pokeStatus(): void;
  stop(): void;
}

export function startLive(deps: LiveDeps): Live {
  const status = changeDetector(statusFingerprint);
  const engine = changeDetector(containerEngineFingerprint);
  let stopped = false;
  let engineBusy = false;
  let last: Status | undefined;

  const checkStatus = () => {
    if (stopped) return;
    try {
      const s = deps.readStatus();
      if (!status.changed(s)) return;
      const events = handlerEvents(last, s, (deps.now ?? (() => new Date().toISOString()))());
      last = s;
      deps.emit('statusChanged', s);
      if (events.length > 0) deps.emit('handlerEvents', events);
    } catch (err) {
      deps.onError?.(err);
    }
  };
  const checkContainerEngine = async () => {
    if (stopped || engineBusy) return;
    engineBusy = true;
    try {
      const v = await deps.readContainerEngine();
      if (!stopped && engine.changed(v)) deps.emit('containerEngineChanged', v);
    } catch (err) {
      deps.onError?.(err);
    } finally {
      engineBusy = false;
    }
  };

  checkStatus();
  void checkContainerEngine();
  const t1 = setInterval(checkStatus, deps.statusIntervalMs ?? 2_000);
  const t2 = setInterval(() => void checkContainerEngine(), deps.containerEngineIntervalMs ?? 10_000);
  t1.unref?.();
  t2.unref?.();
  const unwatch = deps.watchContainerEngine?.(() => void checkContainerEngine());
  return {
    pokeStatus: checkStatus,
    stop() {
      stopped = true;
      unwatch?.();
      clearInterval(t1);
      clearInterval(t2);
    },
  };
}
