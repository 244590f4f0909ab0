/** Flags shared by the `admin` commands. */
import { Flags } from '@oclif/core';

export const teamFlag = Flags.string({
  description: 'Team id (default: the team set up last with `admin init`).',
  env: 'DEVTUNNEL_TEAM',
});

export const apiUrlFlag = Flags.string({
  description: 'ngrok REST API base URL (default https://api.ngrok.com; a sandbox prints its own).',
  env: 'DEVTUNNEL_API_URL',
});
