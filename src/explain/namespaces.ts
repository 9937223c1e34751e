/**
 * Grouping the members' namespaces by inode (pure): the heart of what explain shows. Two
 * processes are in the same namespace exactly when /proc/PID/ns/<type> has the same inode, so a
 * group with every running member is what makes them one pod; a group of one is that member's
 * private view; the host's own inode means "not isolated at all".
 */
import { NAMESPACE_TYPES, type Member, type NamespaceGroup, type NamespaceInodes } from './snapshot.js';

export function groupNamespaces(members: Member[], host: NamespaceInodes): NamespaceGroup[] {
  const running = members.filter((m) => m.process);
  const out: NamespaceGroup[] = [];
  for (const type of NAMESPACE_TYPES) {
    const byInode = new Map<number, string[]>();
    for (const m of running) {
      const inode = m.process!.namespaces[type];
      if (inode === undefined) continue;
      byInode.set(inode, [...(byInode.get(inode) ?? []), m.name]);
    }
    for (const [inode, names] of byInode) {
      const scope: NamespaceGroup['scope'] =
        host[type] === inode
          ? 'host'
          : names.length > 1 && names.length === running.length
            ? 'pod'
            : names.length === 1
              ? 'private'
              : 'shared';
      out.push({ type, inode, members: names, scope });
    }
  }
  return out;
}

/** The group of one member's namespace of one type. */
export function groupOf(groups: NamespaceGroup[], type: string, member: string): NamespaceGroup | undefined {
  return groups.find((g) => g.type === type && g.members.includes(member));
}
