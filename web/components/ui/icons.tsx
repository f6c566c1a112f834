import type { ReactNode, SVGProps } from 'react';

export type P = SVGProps<SVGSVGElement>;

/**
 * Decorative line icons: always hidden from assistive technology (the control carries the label). This module
 * is in the first load of /chat: icons only the lazily loaded views use live in view-icons.tsx.
 */
export function Svg({ children, viewBox = '0 0 24 24', strokeWidth = 2, ...p }: P & { children: ReactNode }) {
  return (
    <svg
      xmlns="http://www.w3.org/2000/svg"
      viewBox={viewBox}
      fill="none"
      stroke="currentColor"
      strokeWidth={strokeWidth}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
      {...p}
    >
      {children}
    </svg>
  );
}

export const SendIcon = (p: P) => (
  <Svg {...p}>
    <path d="M22 2 11 13" />
    <path d="M22 2 15 22l-4-9-9-4z" />
  </Svg>
);
export const PenIcon = (p: P) => (
  <Svg {...p}>
    <path d="M12 20h9" />
    <path d="M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4z" />
  </Svg>
);
export const MenuIcon = (p: P) => (
  <Svg {...p}>
    <circle cx="12" cy="5" r="1" />
    <circle cx="12" cy="12" r="1" />
    <circle cx="12" cy="19" r="1" />
  </Svg>
);
export const SearchIcon = (p: P) => (
  <Svg {...p}>
    <circle cx="11" cy="11" r="7" />
    <path d="m21 21-4.3-4.3" />
  </Svg>
);
export const CloseIcon = (p: P) => (
  <Svg {...p}>
    <path d="M18 6 6 18" />
    <path d="m6 6 12 12" />
  </Svg>
);
export const ClockIcon = (p: P) => (
  <Svg {...p}>
    <circle cx="12" cy="12" r="9" />
    <path d="M12 7v5l3 2" />
  </Svg>
);
export const AlertIcon = (p: P) => (
  <Svg {...p}>
    <circle cx="12" cy="12" r="9" />
    <path d="M12 8v5" />
    <path d="M12 16h.01" />
  </Svg>
);
export const CheckIcon = (p: P) => (
  <Svg viewBox="0 0 16 16" strokeWidth={1.8} {...p}>
    <path d="m2.5 8.5 3 3 7-7" />
  </Svg>
);
export const DoubleCheckIcon = (p: P) => (
  <Svg viewBox="0 0 20 16" strokeWidth={1.8} {...p}>
    <path d="m1.5 8.5 3 3 7-7" />
    <path d="m8.5 11.5 7-7" />
    <path d="m8 11 .5.5" />
  </Svg>
);
/** A crossed-out bell: a muted conversation (the list row). */
export const BellOffIcon = (p: P) => (
  <Svg {...p}>
    <path d="M8.7 3A6 6 0 0 1 18 8a21.3 21.3 0 0 0 .6 5" />
    <path d="M17 17H3s3-2 3-9a4.7 4.7 0 0 1 .3-1.7" />
    <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
    <path d="m2 2 20 20" />
  </Svg>
);
