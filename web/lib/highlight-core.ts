/**
 * lowlight's core alone, for `import()`: a dynamic import of 'lowlight' itself would bring its `all` and
 * `common` grammar sets along (a namespace import cannot be tree-shaken); a static named re-export can.
 */
export { createLowlight } from 'lowlight';
