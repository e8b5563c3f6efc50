#!/usr/bin/env node
import "../dist/src/index.js";
