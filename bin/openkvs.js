#!/usr/bin/env node
// Runs the compiled server (npm run build produces dist/).
import('../dist/main.js');
