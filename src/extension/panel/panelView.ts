import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { HostToPanel, InspectView, PanelToHost, Rendered } from '../../shared/panelProtocol';

/**
 * The host side of one Loss Lens webview (the panel, or a .npy/.npz preview): its HTML with a
 * strict Content-Security-Policy, a typed message channel that holds messages until the page
 * says it is ready, and what the page last reported rendering.
 */
export class PanelView implements vscode.Disposable {
  private ready = false;
  private readonly queue: HostToPanel[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  /** The page's own account of what it shows, after each render. */
  lastRendered: Rendered | undefined;
  /** The last view posted (restored into a revived panel). */
  lastView: InspectView | undefined;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {
    panel.webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
    };
    panel.webview.html = this.html();
    this.disposables.push(panel.webview.onDidReceiveMessage((m: PanelToHost) => this.receive(m)));
  }

  post(message: HostToPanel): void {
    if (message.type === 'inspect/result') this.lastView = message.view;
    if (this.ready) void this.panel.webview.postMessage(message);
    else this.queue.push(message);
  }

  private receive(m: PanelToHost): void {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        for (const q of this.queue.splice(0)) void this.panel.webview.postMessage(q);
        break;
      case 'rendered':
        this.lastRendered = m;
        this.log.trace(`panel rendered: ${JSON.stringify(m)}`);
        break;
      case 'openAt':
        void openAt(m.file, m.line, this.panel.viewColumn);
        break;
      case 'probe/cancel':
        void vscode.commands.executeCommand('lossLens.cancelProbe');
        break;
      case 'probe/open':
        void vscode.commands.executeCommand('lossLens.openProbeRun');
        break;
    }
  }

  private html(): string {
    const webview = this.panel.webview;
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', 'panel.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'panel.css'));
    const csp = [
      "default-src 'none'",
      `img-src ${webview.cspSource} data:`,
      `font-src ${webview.cspSource}`,
      `style-src ${webview.cspSource} 'nonce-${nonce}'`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}" nonce="${nonce}">
<title>Loss Lens</title>
</head>
<body>
<main id="app"><p class="empty">Run <strong>Loss Lens: Inspect Label Distribution</strong> on a file of soft labels.</p></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** Opens a file at a line in another editor group than the panel's, so the panel stays in view. */
async function openAt(file: string, line: number, panelColumn: vscode.ViewColumn | undefined): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const pos = new vscode.Position(Math.max(0, line - 1), 0);
  const viewColumn = panelColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Beside : vscode.ViewColumn.One;
  await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), preview: false, viewColumn });
}
