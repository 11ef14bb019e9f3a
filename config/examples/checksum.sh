#!/bin/sh
# {"text": "Hello"} -> {"sha256": "185f8db3..."}
#
# Hashes the text exactly as written between the JSON quotes: escape
# sequences such as \n are hashed as written, not decoded.
input=$(cat)
text=$(printf '%s' "$input" |
  sed -n -E 's/.*"text"[[:space:]]*:[[:space:]]*"(([^"\\]|\\.)*)".*/\1/p')
sum=$(printf '%s' "$text" | sha256sum | cut -d ' ' -f 1)
printf '{"sha256": "%s"}\n' "$sum"
