import * as vscode from 'vscode';
import { checkNormalizer } from './commands/checkNormalizer';
import { Ctx } from './context';

type Factory = (ctx: Ctx) => (...args: never[]) => unknown;

/** Every command, registered from one table: `lossLens.<name>`. */
const COMMANDS: Record<string, Factory> = {
  checkNormalizer,
  showLog: (ctx) => () => ctx.log.show(),
};

let ctx: Ctx | undefined;

export function activate(extension: vscode.ExtensionContext): { ctx: Ctx } {
  try {
    ctx = new Ctx(extension);
    extension.subscriptions.push(ctx);
    for (const [name, factory] of Object.entries(COMMANDS)) {
      ctx.push(vscode.commands.registerCommand(`lossLens.${name}`, factory(ctx)));
    }
    const { version } = extension.extension.packageJSON as { version: string };
    ctx.log.info(`Loss Lens ${version} activated`);
    return { ctx };
  } catch (e) {
    void vscode.window.showErrorMessage(`Loss Lens failed to activate: ${e instanceof Error ? e.message : String(e)}`);
    throw e;
  }
}

export function deactivate(): void {
  ctx?.dispose();
  ctx = undefined;
}
