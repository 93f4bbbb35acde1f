/**
 * Messages between the extension host and the Loss Lens panel (a webview). Data reaches the
 * page only through these messages, never pasted into its HTML. Each message has a literal
 * `type`; the comment says which way it travels.
 */
import type { LabelStatsResult } from '../core/labels/stats';
import type { ProbeEvent } from './probeProtocol';

/** What the panel shows about one inspected file (also its saved state). */
export interface InspectView {
  /** Absolute path (or URI string) of the file. */
  file: string;
  /** The file's name, for headings. */
  name: string;
  description: string;
  /** Text formats carry line numbers, so a flagged row can open the file there. */
  hasLines: boolean;
  result: LabelStatsResult;
}

/** host → panel: an inspection started (the panel shows progress). */
export interface InspectStarted {
  type: 'inspect/started';
  file: string;
  name: string;
}
/** host → panel: how far the read has come, 0…1. */
export interface InspectProgress {
  type: 'inspect/progress';
  fraction: number;
}
/** host → panel: the statistics of a file. */
export interface InspectResult {
  type: 'inspect/result';
  view: InspectView;
}
/** host → panel: the file could not be read (or the read was cancelled). */
export interface InspectFailed {
  type: 'inspect/failed';
  file: string;
  name: string;
  message: string;
}
/** host → panel: one event of a running training probe (the panel shows the probe view). */
export interface ProbeEventMessage {
  type: 'probe/event';
  event: ProbeEvent;
}
/** host → panel: a saved probe run, replayed at once; `source` names the file. */
export interface ProbeLoad {
  type: 'probe/load';
  events: ProbeEvent[];
  source?: string;
}
export type HostToPanel = InspectStarted | InspectProgress | InspectResult | InspectFailed | ProbeEventMessage | ProbeLoad;

/** panel → host: the page has loaded and listens. */
export interface PanelReady {
  type: 'ready';
}
/** panel → host: open the file at a line (a flagged row of a text file). */
export interface OpenAt {
  type: 'openAt';
  file: string;
  line: number;
}
/**
 * panel → host: what the page now shows, read back from its DOM after each render (the
 * integration tests assert on it; the host logs it at trace level).
 */
export interface Rendered {
  type: 'rendered';
  heading: string;
  banner: string[];
  summary: string;
  charts: string[];
  flaggedRows: number;
  /** The error shown, if the file could not be read (or the probe failed). */
  error: string;
  theme: string;
  /** Only while the probe view is shown. */
  probe?: {
    /** running, done, cancelled or failed. */
    status: string;
    runs: number;
    /** Training points drawn, all runs together (finite values, after decimation). */
    points: number;
    evals: number;
    /** The results table's cells as text, header row first (empty until probe/finished). */
    table: string[][];
    /** Backend and device as the header shows them. */
    backend: string;
    device: string;
  };
}
/** panel → host: the user cancelled the running probe. */
export interface ProbeCancel {
  type: 'probe/cancel';
}
/** panel → host: the user asked to open a saved probe run (the host shows a file dialog). */
export interface ProbeOpen {
  type: 'probe/open';
}
export type PanelToHost = PanelReady | OpenAt | Rendered | ProbeCancel | ProbeOpen;

export const PANEL_VIEW_TYPE = 'lossLens.panel';
export const PREVIEW_VIEW_TYPE = 'lossLens.labelPreview';
