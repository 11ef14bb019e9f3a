#!/bin/sh
# {"text": "the quick brown fox"} -> {"words": 4}
#
# The text is taken with sed (JSON escapes allowed inside it); \n, \r and \t
# escapes count as spaces, other escapes as part of a word.
input=$(cat)
text=$(printf '%s' "$input" |
  sed -n -E 's/.*"text"[[:space:]]*:[[:space:]]*"(([^"\\]|\\.)*)".*/\1/p')
words=$(printf '%s' "$text" | sed -E 's/\\[nrt]/ /g' | wc -w)
printf '{"words": %d}\n' "$words"
