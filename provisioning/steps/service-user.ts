// The system user the daemon runs as. Only what it needs: its own group (the control
// socket is 0660 ampio-bridge) and dialout for the serial adapter. No home, no shell.

import { SERVICE_USER } from '../types.js';

export function useraddCommand(root: string | null, groups: string[]): string[] {
  return [
    'useradd',
    ...(root ? ['--root', root] : []),
    '--system',
    '--user-group',
    ...(groups.length ? ['--groups', groups.join(',')] : []),
    '--home-dir',
    '/nonexistent',
    '--no-create-home',
    '--shell',
    '/usr/sbin/nologin',
    '--comment',
    'ampio-bridge daemon',
    SERVICE_USER,
  ];
}

/** Undoes useraddCommand on rollback (userdel also removes the user's own group). */
export function userdelCommand(root: string | null): string[] {
  return ['userdel', ...(root ? ['--root', root] : []), SERVICE_USER];
}

export function addToGroupCommand(root: string | null, user: string, group: string): string[] {
  return ['usermod', ...(root ? ['--root', root] : []), '--append', '--groups', group, user];
}

/** Groups of `user` from /etc/group text (primary group excluded). */
export function groupsOf(groupFile: string | null, user: string): string[] {
  if (!groupFile) return [];
  const out: string[] = [];
  for (const line of groupFile.split('\n')) {
    const [name, , , members] = line.split(':');
    if (
      members
        ?.split(',')
        .map((m) => m.trim())
        .includes(user)
    )
      out.push(name);
  }
  return out;
}

export function userExists(passwdFile: string | null, user: string): boolean {
  return !!passwdFile && passwdFile.split('\n').some((l) => l.split(':')[0] === user);
}
