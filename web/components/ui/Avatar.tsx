import type { User } from '@chat/functions/contracts';

// white initials on these stay above 4.5:1 contrast
const COLORS = [
  'bg-indigo-600',
  'bg-rose-700',
  'bg-emerald-700',
  'bg-amber-700',
  'bg-sky-700',
  'bg-fuchsia-700',
  'bg-teal-700',
  'bg-orange-700',
  'bg-violet-700',
  'bg-cyan-800',
];

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return Math.abs(h);
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const first = parts[0]?.[0] ?? '?';
  const second = parts.length > 1 ? (parts[parts.length - 1]?.[0] ?? '') : '';
  return (first + second).toUpperCase();
}

interface AvatarProps {
  /** Used for the colour (stable per user or conversation). */
  seed: string;
  name: string;
  size?: 'sm' | 'md' | 'lg';
  /** Presence dot: true online, false offline, undefined none. */
  online?: boolean;
  group?: boolean;
}

export function Avatar({ seed, name, size = 'md', online, group }: AvatarProps) {
  const dim = size === 'sm' ? 'size-8 text-xs' : size === 'lg' ? 'size-12 text-base' : 'size-10 text-sm';
  return (
    <span className="relative inline-flex shrink-0">
      <span
        className={`${dim} ${COLORS[hash(seed) % COLORS.length]} inline-flex items-center justify-center rounded-full font-semibold text-white ${group ? 'rounded-xl' : ''}`}
        aria-hidden
      >
        {initials(name)}
      </span>
      {online !== undefined && <PresenceDot online={online} className="absolute -right-0.5 -bottom-0.5" />}
    </span>
  );
}

export function PresenceDot({ online, className = '' }: { online: boolean; className?: string }) {
  return (
    <span
      role="img"
      aria-label={online ? 'online' : 'offline'}
      data-testid="presence-dot"
      data-online={online ? 'true' : 'false'}
      className={`${className} block size-3.5 rounded-full border-2 border-white dark:border-gray-950 ${online ? 'bg-emerald-500' : 'bg-gray-400 dark:bg-gray-600'}`}
    />
  );
}

export function userLabel(u: Pick<User, 'displayName' | 'username'>): string {
  return u.displayName || u.username;
}
