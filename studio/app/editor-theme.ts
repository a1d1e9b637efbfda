// A dark CodeMirror theme and syntax colours that match the studio's palette.
import { EditorView } from '@codemirror/view';
import { HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { tags as t } from '@lezer/highlight';

const theme = EditorView.theme(
  {
    '&': { color: '#dbe2ea', backgroundColor: '#0f1216' },
    '.cm-content': { caretColor: '#e6edf3' },
    '.cm-cursor, .cm-dropCursor': { borderLeftColor: '#e6edf3' },
    '&.cm-focused .cm-selectionBackground, .cm-selectionBackground, .cm-content ::selection': { backgroundColor: '#264f78' },
    '.cm-gutters': { backgroundColor: '#12161b', color: '#6e7b8a', border: 'none', borderRight: '1px solid #2a333e' },
    '.cm-activeLine': { backgroundColor: '#161c24' },
    '.cm-activeLineGutter': { backgroundColor: '#1c232c', color: '#dbe2ea' },
    '&.cm-focused .cm-matchingBracket': { backgroundColor: '#2f4a2f', outline: '1px solid #3fb950' },
    '&.cm-focused .cm-nonmatchingBracket': { backgroundColor: '#4a2020' },
    '.cm-searchMatch': { backgroundColor: '#5a4a12', outline: '1px solid #d29922' },
    '.cm-searchMatch.cm-searchMatch-selected': { backgroundColor: '#7a5f10' },
    '.cm-panels': { backgroundColor: '#161b22', color: '#dbe2ea' },
    '.cm-panels.cm-panels-bottom': { borderTop: '1px solid #2a333e' },
    '.cm-tooltip': { backgroundColor: '#1c232c', border: '1px solid #2a333e', color: '#dbe2ea' },
    '.cm-tooltip-lint': { backgroundColor: '#1c232c' },
    '.cm-diagnostic-error': { borderLeftColor: '#f85149' },
    '.cm-foldPlaceholder': { backgroundColor: '#1c232c', border: 'none', color: '#8b98a7' },
    '.cm-textfield': { backgroundColor: '#0f1216', color: '#dbe2ea', border: '1px solid #2a333e' },
    '.cm-button': { backgroundImage: 'none', backgroundColor: '#1c232c', color: '#dbe2ea', border: '1px solid #2a333e' },
  },
  { dark: true },
);

const highlight = HighlightStyle.define([
  { tag: t.keyword, color: '#ff7b72' },
  { tag: [t.string, t.special(t.string)], color: '#a5d6ff' },
  { tag: t.comment, color: '#8b949e', fontStyle: 'italic' },
  { tag: t.number, color: '#79c0ff' },
  { tag: [t.atom, t.bool, t.null], color: '#79c0ff' },
  { tag: t.operator, color: '#ff9f7b' },
  { tag: [t.definition(t.variableName), t.function(t.variableName)], color: '#d2a8ff', fontWeight: '600' },
  { tag: t.standard(t.variableName), color: '#ffa657' },
  { tag: t.variableName, color: '#dbe2ea' },
  { tag: [t.bracket, t.punctuation], color: '#8b98a7' },
]);

export const studioEditorTheme = [theme, syntaxHighlighting(highlight)];
