import * as vscode from 'vscode';
import { startProbe, type ProbeHandle, type ProbeOutcome } from '../../probe/host';
import type { ProbeConfig, ProbeEvent } from '../../shared/probeProtocol';
import type { Ctx } from '../context';
import { LossLensPanel } from '../panel/lossLensPanel';

/**
 * The running probe (one at a time): its worker, a cancellable progress notification, a
 * status bar item, and the Loss Lens panel that draws its events. The events also stay here
 * (`events`), for the integration tests and for a panel opened mid-run.
 */
export class ProbeSession {
  private static current: ProbeSession | undefined;
  readonly events: ProbeEvent[] = [];
  private readonly handle: ProbeHandle;
  private readonly status: vscode.StatusBarItem;
  /** The panel this probe has been drawing in. */
  private panel: LossLensPanel | undefined;
  readonly done: Promise<ProbeOutcome>;

  static get running(): ProbeSession | undefined {
    return ProbeSession.current;
  }

  private constructor(
    private readonly ctx: Ctx,
    readonly config: ProbeConfig,
  ) {
    this.panel = LossLensPanel.show(ctx);
    this.status = vscode.window.createStatusBarItem('lossLens.probe', vscode.StatusBarAlignment.Left, 10);
    this.status.name = 'Loss Lens probe';
    this.status.text = '$(sync~spin) Loss Lens: starting probe';
    this.status.tooltip = 'A Loss Lens training probe is running: click to show it (cancel from the notification or the panel).';
    this.status.command = 'lossLens.showProbe';
    this.status.show();
    void vscode.commands.executeCommand('setContext', 'lossLens.probeRunning', true);
    let runsDone = 0;
    let runsTotal = 0;
    let fraction = 0;
    let message = 'starting';
    let tick: (() => void) | undefined;
    this.handle = startProbe(config, {
      workerPath: vscode.Uri.joinPath(ctx.extension.extensionUri, 'dist', 'probeWorker.js').fsPath,
      maxHeapMb: ctx.config.probeMaxHeapMb,
      onEvent: (event) => {
        this.events.push(event);
        this.draw(LossLensPanel.instance, event);
        switch (event.type) {
          case 'probe/started':
            runsTotal = event.runs;
            ctx.log.info(`probe ${event.probeId}: ${event.runs} run(s) on ${event.backend}, ${event.device}`);
            for (const n of event.notes) ctx.log.info(`  note: ${n}`);
            break;
          case 'probe/progress':
            fraction = event.fraction;
            message = event.message;
            break;
          case 'probe/log':
            ctx.log.info(event.message);
            break;
          case 'run/finished':
            runsDone++;
            ctx.log.info(`run ${event.runId}: ${event.status}${event.message ? ` (${event.message})` : ''}`);
            break;
          case 'probe/finished':
            ctx.log.info(`probe ${event.status}${event.message ? `: ${event.message}` : ''}${event.savedTo ? `; saved to ${event.savedTo}` : ''}`);
            break;
          default:
            break;
        }
        this.status.text = `$(sync~spin) Loss Lens: run ${Math.min(runsDone + 1, Math.max(runsTotal, 1))}/${Math.max(runsTotal, 1)}, ${Math.round(100 * fraction)}%`;
        tick?.();
      },
    });
    this.done = this.handle.done.finally(() => {
      this.status.dispose();
      void vscode.commands.executeCommand('setContext', 'lossLens.probeRunning', false);
      if (ProbeSession.current === this) ProbeSession.current = undefined;
    });
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Loss Lens probe', cancellable: true },
      (progress, token) => {
        token.onCancellationRequested(() => this.cancel());
        let reported = 0;
        tick = () => {
          const pct = Math.round(100 * fraction);
          progress.report({ message: message, increment: Math.max(0, pct - reported) });
          reported = Math.max(reported, pct);
        };
        return this.done;
      },
    );
  }

  static start(ctx: Ctx, config: ProbeConfig): ProbeSession {
    if (ProbeSession.current) throw new Error('a probe is already running');
    ProbeSession.current = new ProbeSession(ctx, config);
    return ProbeSession.current;
  }

  /** Shows the probe in the Loss Lens panel (opening one if it was closed). */
  show(): void {
    this.draw(LossLensPanel.show(this.ctx));
  }

  /** Sends the new event to the panel; a panel opened mid-run (a new page) gets the whole run. */
  private draw(panel: LossLensPanel | undefined, event?: ProbeEvent): void {
    if (!panel) return;
    if (panel !== this.panel) {
      this.panel = panel;
      panel.view.post({ type: 'probe/load', events: this.events.filter((e) => e.type !== 'probe/progress') });
    } else if (event) panel.view.post({ type: 'probe/event', event });
  }

  cancel(): void {
    this.ctx.log.info('probe: cancel requested');
    this.handle.cancel();
  }

  /** Terminates the worker as a crash would (the integration tests use it). */
  kill(): void {
    this.handle.kill();
  }
}
