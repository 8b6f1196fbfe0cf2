// Request schemas of the consoles: POST /servers/{id}/remote-consoles per microversion range (Nova's
// create_v26 / create_v28 / create_v299), and the os-getVNCConsole and os-getConsoleOutput actions.
// Built and compiled once at start.
import { consoleChoices } from '../../nova/consoles.ts';
import { compile, perVersion } from '../validate.ts';

export const remoteConsoleSchema = perVersion(['2.8', '2.99'], (v) => {
  const { protocols, types } = consoleChoices(v);
  return {
    type: 'object', required: ['remote_console'], additionalProperties: false,
    properties: {
      remote_console: {
        type: 'object', required: ['protocol', 'type'], additionalProperties: false,
        properties: { protocol: { type: 'string', enum: protocols }, type: { type: 'string', enum: types } },
      },
    },
  };
});

export const GET_VNC_CONSOLE = compile({
  type: 'object', required: ['os-getVNCConsole'], additionalProperties: false,
  properties: {
    'os-getVNCConsole': { type: 'object', required: ['type'], additionalProperties: false, properties: { type: { type: 'string', enum: ['novnc', 'xvpvnc'] } } },
  },
});

/** os-getSPICEConsole and os-getSerialConsole (≤ 2.5), each with the one type Nova accepts. */
export const LEGACY_CONSOLE: Record<'os-getSPICEConsole' | 'os-getSerialConsole', Record<string, unknown>> = {
  'os-getSPICEConsole': compile({
    type: 'object', required: ['os-getSPICEConsole'], additionalProperties: false,
    properties: { 'os-getSPICEConsole': { type: 'object', required: ['type'], additionalProperties: false, properties: { type: { type: 'string', enum: ['spice-html5'] } } } },
  }),
  'os-getSerialConsole': compile({
    type: 'object', required: ['os-getSerialConsole'], additionalProperties: false,
    properties: { 'os-getSerialConsole': { type: 'object', required: ['type'], additionalProperties: false, properties: { type: { type: 'string', enum: ['serial'] } } } },
  }),
};

/** A string length must be numeric; -1 and null mean everything. */
export const CONSOLE_OUTPUT = compile({
  type: 'object',
  required: ['os-getConsoleOutput'],
  additionalProperties: false,
  properties: {
    'os-getConsoleOutput': {
      type: 'object',
      additionalProperties: false,
      properties: { length: { type: ['integer', 'string', 'null'], pattern: '^-?[0-9]+$', minimum: -1 } },
    },
  },
});
