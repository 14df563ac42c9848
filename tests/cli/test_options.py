"""Command-line options come from the settings classes: one set of defaults, one set of checks."""

import dataclasses

import pytest

from streamdl.cli import build_parser
from streamdl.cli.options import settings_from
from streamdl.engine.options import ChainOptions, LiveOptions
from streamdl.errors import StreamdlError
from streamdl.training.configs import CodecTrainConfig, DenoiserTrainConfig, TaggerTrainConfig


@pytest.mark.parametrize("argv, settings", [(["train", "denoiser"], DenoiserTrainConfig), (["train", "tagger"], TaggerTrainConfig),
                                            (["train", "codec"], CodecTrainConfig), (["run"], ChainOptions), (["run"], LiveOptions),
                                            (["denoise"], ChainOptions)])  # fmt: skip
def test_options_not_given_keep_the_settings_defaults(argv, settings):
    assert settings_from(settings, build_parser().parse_args(argv)) == settings()


def test_given_options_land_in_the_settings_with_their_types():
    args = build_parser().parse_args(["train", "denoiser", "--snr-db", "-8", "12", "--steps", "100", "--output-gate", "--out", "r"])
    tc = settings_from(DenoiserTrainConfig, args)
    assert (tc.snr_db, tc.max_steps, tc.output_gate, tc.out_dir) == ((-8.0, 12.0), 100, True, "r")
    live = settings_from(LiveOptions, build_parser().parse_args(["run", "-i", "2", "--no-play", "--channel", "1"]))
    assert (live.input, live.play, live.channel) == ("2", False, 1)


def test_every_settings_flag_has_help():
    for settings in (ChainOptions, LiveOptions, DenoiserTrainConfig, TaggerTrainConfig, CodecTrainConfig):
        for field in dataclasses.fields(settings):
            if "help" in field.metadata:
                assert field.metadata["help"].strip(), field.name


@pytest.mark.parametrize("make, message", [
    (lambda: DenoiserTrainConfig(snr_db=(20.0, -5.0)), "snr_db (--snr-db) takes the lowest and the highest SNR"),
    (lambda: DenoiserTrainConfig(synthetic_share=45), "a fraction of the noises"),
    (lambda: TaggerTrainConfig(labels=99), "from 0 to 14; got 99"),
    (lambda: TaggerTrainConfig(speed=(0.0, 2.0)), "(above 0, at most 4)"),
    (lambda: ChainOptions(mix=1.5), "mix (--mix) is the denoised share"),
    (lambda: ChainOptions(backend="tflite"), "choose one of auto, eager"),
    (lambda: LiveOptions(input="2", input_file="a.wav"), "not both"),
    (lambda: LiveOptions(channel=-1), "an input channel"),
])  # fmt: skip
def test_python_callers_get_the_same_checks_as_the_command_line(make, message):
    with pytest.raises(StreamdlError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()
