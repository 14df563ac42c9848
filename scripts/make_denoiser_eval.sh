#!/usr/bin/env bash
# Unseen-noise evaluation pairs for the denoiser, split by package like the tagger's (scripts/make_tagger_eval.py):
# "look" (noise of lincity-ng, scorched3d, supertuxkart over validation speakers) may be looked at while choosing
# between denoisers; "test" (noise of 0ad and megaglest over test speakers) is scored once per shipped denoiser.
# 100 pairs each, 4 s, at -5, 0, 5, 10 and 15 dB. Score them with benchmarks/compare_denoisers.py.
#
#   scripts/make_denoiser_eval.sh [TAGGER_EVAL=data/tagger_eval] [CORPUS=data/corpus_admitted3] [OUT=data]
set -euo pipefail
eval_dir=${1:-data/tagger_eval} corpus=${2:-data/corpus_admitted3} out=${3:-data}
for part in look test; do
  rm -rf "$out/dn_noise/$part" && mkdir -p "$out/dn_noise/$part"
  for kind in "$eval_dir/$part"/*/; do
    case $(basename "$kind") in speech | music) ;; *) cp -r "$kind" "$out/dn_noise/$part/" ;; esac
  done
done
streamdl data pairs --corpus "$corpus" --split val --noise "$out/dn_noise/look" --out "$out/dn_look" --count 100 --snr-db -5 0 5 10 15
streamdl data pairs --corpus "$corpus" --split test --noise "$out/dn_noise/test" --out "$out/dn_test" --count 100 --snr-db -5 0 5 10 15
