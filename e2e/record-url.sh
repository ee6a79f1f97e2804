#!/bin/sh
printf %s "$1" > "$E2E_URL_FILE"
