import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import type { ProbeEvent } from '../../shared/probeProtocol';
import type { Ctx } from '../context';
import { LossLensPanel } from '../panel/lossLensPanel';

/**
 * Loss Lens: Open Saved Probe Run. A probe's events are saved as JSON lines in the workspace's
 * storage; this replays one into the panel (from a quick pick of saved runs, or a file given).
 */
export function openProbeRun(ctx: Ctx) {
  return async (uri?: vscode.Uri): Promise<number | undefined> => {
    const file = uri instanceof vscode.Uri ? uri.fsPath : await pickSaved(ctx);
    if (!file) return undefined;
    try {
      const events = parseProbeLines(await readFile(file, 'utf8'), file);
      LossLensPanel.show(ctx).view.post({ type: 'probe/load', events, source: basename(file) });
      return events.length;
    } catch (e) {
      void vscode.window.showErrorMessage(`Loss Lens: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  };
}

/** The events of a saved run; a bad line is an error naming the file and the line. */
export function parseProbeLines(text: string, file: string): ProbeEvent[] {
  const events: ProbeEvent[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let e: unknown;
    try {
      e = JSON.parse(line);
    } catch (err) {
      throw new Error(`${file}:${i + 1}: not JSON (${err instanceof Error ? err.message : String(err)})`);
    }
    if (typeof e !== 'object' || e === null || typeof (e as { type?: unknown }).type !== 'string') {
      throw new Error(`${file}:${i + 1}: not a probe event (no "type")`);
    }
    events.push(e as ProbeEvent);
  });
  if (!events.some((e) => e.type === 'probe/started')) throw new Error(`${file}: not a saved probe run (no probe/started event)`);
  return events;
}

async function pickSaved(ctx: Ctx): Promise<string | undefined> {
  const dir = vscode.Uri.joinPath(ctx.extension.storageUri ?? ctx.extension.globalStorageUri, 'probes').fsPath;
  let names: string[] = [];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.jsonl'));
  } catch {
    // no probes saved yet
  }
  if (names.length === 0) {
    const browse = 'Open a File…';
    const answer = await vscode.window.showInformationMessage('No saved probe runs in this workspace yet.', browse);
    if (answer !== browse) return undefined;
    const picked = await vscode.window.showOpenDialog({ filters: { 'Probe runs': ['jsonl'] } });
    return picked?.[0]?.fsPath;
  }
  const items = await Promise.all(
    names.map(async (n) => {
      const full = join(dir, n);
      const s = await stat(full);
      const head = (await readFile(full, 'utf8')).split('\n', 1)[0];
      let description = '';
      try {
        const e = JSON.parse(head) as ProbeEvent;
        if (e.type === 'probe/started') {
          const m = e.config.model;
          description = `${m.kind === 'preset' ? `preset ${m.preset}` : basename(m.path)} · ${e.config.losses.join(', ')} · ${e.backend}`;
        }
      } catch {
        description = 'unreadable first line';
      }
      return { label: s.mtime.toLocaleString(), description, detail: n, file: full, time: s.mtimeMs };
    }),
  );
  items.sort((a, b) => b.time - a.time);
  const picked = await vscode.window.showQuickPick(items, { title: 'Loss Lens: a saved probe run' });
  return picked?.file;
}
