import * as vscode from 'vscode';
import { Config } from './config';

/** What every command needs, created once in `activate` and owning what must be disposed. */
export class Ctx implements vscode.Disposable {
  readonly config = new Config();
  readonly log: vscode.LogOutputChannel;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('Loss Lens', { log: true });
    this.disposables.push(this.log);
  }

  push(...d: vscode.Disposable[]): void {
    this.disposables.push(...d);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}
