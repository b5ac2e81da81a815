/**
 * Which Python runs fine-tuning: the Python extension's active environment for the resource (when
 * that extension is installed; it is optional), else the `layer-lens.pythonPath` setting, else
 * `python3`. Never consulted in an untrusted workspace (callers refuse before asking).
 */
import * as vscode from 'vscode';

interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined;
    resolveEnvironment(env: { path: string } | string): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  };
}

export interface PythonChoice {
  python: string;
  source: 'python-extension' | 'setting' | 'default';
}

export async function resolvePython(scope?: vscode.Uri): Promise<PythonChoice> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (ext) {
    try {
      const api = ext.isActive ? ext.exports : await ext.activate();
      const envPath = api?.environments?.getActiveEnvironmentPath(scope);
      const env = envPath ? await api!.environments!.resolveEnvironment(envPath) : undefined;
      const exe = env?.executable?.uri?.fsPath;
      if (exe) return { python: exe, source: 'python-extension' };
    } catch {
      // fall through to the setting
    }
  }
  const setting = vscode.workspace.getConfiguration('layer-lens', scope).get<string>('pythonPath', '')?.trim();
  if (setting) return { python: setting, source: 'setting' };
  return { python: 'python3', source: 'default' };
}
