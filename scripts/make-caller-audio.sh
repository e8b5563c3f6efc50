#!/bin/sh
# Regenerates the bundled caller clips in fixtures/audio/ (issue 17): synthetic speech from
# espeak-ng (Debian package espeak-ng 1.51, its own formant voice "en-us", no MBROLA data), resampled by
# sox to 8 kHz mono 16-bit PCM WAV so they stay small. The texts are vwh's own; the clips are
# released with vwh under its MIT licence (a program's output is not covered by the program's GPL).
# Needs: apt-get install -y espeak-ng sox
set -eu
cd "$(dirname "$0")/../fixtures/audio"
clip() {
  espeak-ng -v en-us -s 165 -w "$1.raw.wav" "$2"
  # Trim leading/trailing silence, then 8 kHz mono 16-bit.
  sox "$1.raw.wav" -r 8000 -c 1 -b 16 "$1.wav" silence 1 0.02 1% reverse silence 1 0.02 1% reverse
  rm "$1.raw.wav"
}
clip book-cleaning "I'd like to book a cleaning next week."
clip tuesday-morning "Tuesday morning, please."
clip wait "Sorry, wait."
