/**
 * Turn the engine's pull messages ({status, id, progressDetail} lines) into one progress figure:
 * layers done, bytes, percent. Pure; the caller feeds parsed JSON messages.
 */
import type { PullProgress } from '../../shared/probe';

export interface PullMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

type LayerState = 'waiting' | 'downloading' | 'downloaded' | 'extracting' | 'done';

interface Layer {
  state: LayerState;
  dlCurrent: number;
  dlTotal: number;
  exCurrent: number;
  exTotal: number;
}

const LAYER_STATUS: Record<string, LayerState> = {
  'Pulling fs layer': 'waiting',
  Waiting: 'waiting',
  Downloading: 'downloading',
  'Verifying Checksum': 'downloaded',
  'Download complete': 'downloaded',
  Extracting: 'extracting',
  'Pull complete': 'done',
  'Already exists': 'done',
};

/** Downloading counts for 70 % of a layer, extracting for the rest. */
const DOWNLOAD_SHARE = 0.7;

export class PullTracker {
  private readonly layers = new Map<string, Layer>();
  private lastPercent = -1;
  private lastStatus = '';
  private finished = false;
  /** `sha256:…` from the "Digest:" line. */
  digest: string | undefined;
  /** The engine's error, when the pull failed. */
  error: string | undefined;

  /** Feed one message; returns a progress snapshot when something a person would notice changed. */
  push(msg: PullMessage): PullProgress | undefined {
    if (msg.error || msg.errorDetail?.message) {
      this.error = (msg.errorDetail?.message ?? msg.error ?? '').trim();
      return undefined;
    }
    const status = (msg.status ?? '').trim();
    if (!status) return undefined;
    let layerChanged = false;
    const state = LAYER_STATUS[status];
    if (state && msg.id) {
      const layer = this.layers.get(msg.id) ?? { state: 'waiting', dlCurrent: 0, dlTotal: 0, exCurrent: 0, exTotal: 0 };
      layerChanged = layer.state !== state;
      layer.state = state;
      const cur = msg.progressDetail?.current;
      const tot = msg.progressDetail?.total;
      if (state === 'downloading') {
        if (typeof tot === 'number' && tot > 0) layer.dlTotal = tot;
        if (typeof cur === 'number') layer.dlCurrent = cur;
      } else if (state === 'extracting') {
        if (typeof tot === 'number' && tot > 0) layer.exTotal = tot;
        if (typeof cur === 'number') layer.exCurrent = cur;
        if (layer.dlTotal > 0) layer.dlCurrent = layer.dlTotal;
      } else if (state === 'downloaded' || state === 'done') {
        if (layer.dlTotal > 0) layer.dlCurrent = layer.dlTotal;
      }
      this.layers.set(msg.id, layer);
    } else if (status.startsWith('Digest: ')) {
      this.digest = status.slice('Digest: '.length).trim();
    } else if (status.startsWith('Status: ')) {
      this.finished = true;
    }
    const snap = this.snapshot(status, state ? msg.id : undefined);
    const percentStep = Math.floor(snap.percent);
    const summaryChanged = !state && status !== this.lastStatus;
    this.lastStatus = status;
    if (layerChanged || summaryChanged || percentStep !== this.lastPercent) {
      this.lastPercent = percentStep;
      return snap;
    }
    return undefined;
  }

  snapshot(status = this.lastStatus, layer?: string): PullProgress {
    let sum = 0;
    let done = 0;
    let bytesDone = 0;
    let bytesTotal = 0;
    for (const l of this.layers.values()) {
      bytesDone += l.dlCurrent;
      bytesTotal += l.dlTotal;
      if (l.state === 'done') {
        done++;
        sum += 1;
      } else if (l.state === 'downloading') {
        sum += l.dlTotal > 0 ? DOWNLOAD_SHARE * Math.min(1, l.dlCurrent / l.dlTotal) : 0;
      } else if (l.state === 'downloaded') {
        sum += DOWNLOAD_SHARE;
      } else if (l.state === 'extracting') {
        sum += DOWNLOAD_SHARE + (1 - DOWNLOAD_SHARE) * (l.exTotal > 0 ? Math.min(1, l.exCurrent / l.exTotal) : 0);
      }
    }
    const n = this.layers.size;
    const percent = this.finished ? 100 : n === 0 ? 0 : Math.min(100, (sum / n) * 100);
    return {
      status,
      ...(layer ? { layer } : {}),
      layersDone: done,
      layersTotal: n,
      bytesDone,
      bytesTotal,
      percent: Math.round(percent * 10) / 10,
    };
  }
}
