import * as vscode from 'vscode';
import type { Ctx } from '../context';

/** The parts of the Python extension's public API (ms-python.python, `environments`) used here. */
interface PythonApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
    resolveEnvironment(env: { path: string } | string): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
  };
}

/**
 * The interpreter the Python extension has selected for the workspace, when that extension is
 * installed; undefined otherwise (the probe then looks for python3 with torch itself).
 */
export async function activePythonInterpreter(ctx: Ctx): Promise<string | undefined> {
  const ext = vscode.extensions.getExtension<PythonApi>('ms-python.python');
  if (!ext) return undefined;
  try {
    const api = ext.isActive ? ext.exports : await ext.activate();
    const envs = api.environments;
    if (!envs) return undefined;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const resolved = await envs.resolveEnvironment(envs.getActiveEnvironmentPath(folder));
    const file = resolved?.executable.uri?.fsPath;
    if (file) ctx.log.info(`probe: the Python extension's interpreter is ${file}`);
    return file;
  } catch (e) {
    ctx.log.warn(`probe: could not ask the Python extension for its interpreter: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}
