// Tiny template filler for provisioning/templates/: `{{name}}` is replaced, and a line that
// starts with `{{?name}}` is kept (without the marker) only when `name` is truthy. Enough
// for unit/network files; anything cleverer belongs in the step code, not the template.

export type TemplateVars = Record<string, string | number | boolean>;

export function renderTemplate(template: string, vars: TemplateVars): string {
  const out: string[] = [];
  for (const line of template.split('\n')) {
    let text = line;
    const cond = /^\{\{\?(\w+)\}\}/.exec(text);
    if (cond) {
      if (!(cond[1] in vars)) throw new Error(`template condition {{?${cond[1]}}} has no value`);
      if (!vars[cond[1]]) continue;
      text = text.slice(cond[0].length);
    }
    out.push(
      text.replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
        if (!(k in vars)) throw new Error(`template variable {{${k}}} has no value`);
        return String(vars[k]);
      }),
    );
  }
  return out.join('\n');
}

export function managedHeader(version: string): string {
  return `managed by ampio-bridge setup, version ${version}`;
}
