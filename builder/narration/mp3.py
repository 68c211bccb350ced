"""MP3 as the narration makes it: each clip by a fresh LAME encoder into whole frames, frames of silence
for pauses, and the frame arithmetic (a clip's lead-in, padding and length) its timings are measured by.

A fresh encoder's bit reservoir starts empty, so frames of clips put end to end decode as one stream:
an article's MP3 is its clips' frames one after another (builder.narration.synthesis.ArticleEncoder).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

import lameenc

from builder.narration.engines.base import SAMPLE_RATE

# 48 kbit/s CBR: synthetic speech has nothing above 11 kHz, and at 22.05 kHz mono this is
# transparent for it (~21.6 MB an hour). Constant bit rate, because without a Xing table
# readers seek to clipBegin by bytes = time x bitrate, which is exact only for CBR.
MP3_BITRATE_KBPS = 48
# LAME -q 2, its recommended high-quality setting: ~290x real time, still the larger share
# of narration time (espeak-ng speaks at ~500x); -q 5 would encode about twice as fast.
MP3_QUALITY = 2
FRAME_SAMPLES = 576  # one MPEG-2 Layer III frame at 22.05 kHz
# A decoder plays LAME's encoder delay (576) plus its own delay (529) before the first input
# sample, measured with ffmpeg: every encoded clip starts with this much silence, which the
# timings count in the clip before (the first clip's lead-in counts in the first clip).
DECODER_OFFSET_SAMPLES = 1105
# A fresh encoder given n samples writes ceil(n / 576) + 2 frames (measured): its lead-in and padding.
LEAD_FRAMES = 2
# Silence given to a clip's encoder before the speech: from a cold start LAME does not see the speech's
# attack coming and smears it up to 33 ms ahead (measured: a sound in the pause before the sentence);
# after two frames of silence it switches to short blocks as in one long stream (nothing ahead, measured).
LEAD_SILENCE = 2 * FRAME_SAMPLES
# Where a clip's speech is heard, counted from its first frame.
SPEECH_OFFSET_SAMPLES = DECODER_OFFSET_SAMPLES + LEAD_SILENCE


@dataclass(frozen=True)
class EncodedClip:
    """A clip as whole MP3 frames from an encoder of its own: it borrows no bits across its edges (a fresh
    encoder's bit reservoir starts empty), so frames of clips put end to end decode as one stream."""

    mp3: bytes
    samples: int  # the clip's PCM samples; the frames hold these plus the lead-in and padding, in silence
    frames: int

    @property
    def played(self) -> int:
        """Samples a decoder plays for these frames."""
        return self.frames * FRAME_SAMPLES


def new_encoder() -> lameenc.Encoder:
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(MP3_BITRATE_KBPS)
    encoder.set_in_sample_rate(SAMPLE_RATE)
    encoder.set_out_sample_rate(SAMPLE_RATE)
    encoder.set_channels(1)
    encoder.set_quality(MP3_QUALITY)
    return encoder


def encode_clip(pcm: bytes) -> EncodedClip:
    """A clip's PCM, after LEAD_SILENCE, as the MP3 frames of an encoder of its own (a clip with no samples
    as one sample of silence)."""
    pcm = pcm or b"\x00\x00"
    mp3 = encoded(b"\x00\x00" * LEAD_SILENCE + pcm)
    return EncodedClip(mp3, len(pcm) // 2, mp3_frame_count(mp3))


def encoded(pcm: bytes) -> bytes:
    encoder = new_encoder()
    return encoder.encode(pcm) + encoder.flush()


@functools.cache
def silence(frames: int) -> bytes:
    """`frames` frames of encoded silence, from an encoder of their own (never 1 or 2: a fresh encoder
    writes at least 3)."""
    if frames == 0:
        return b""
    mp3 = encoded(b"\x00\x00" * ((frames - LEAD_FRAMES) * FRAME_SAMPLES))
    assert mp3_frame_count(mp3) == frames  # LEAD_FRAMES is LAME's, measured
    return mp3


def pause_frames(clip: EncodedClip, pause: float) -> int:
    """Frames of silence after a clip, so that the silence heard between its speech and the next clip's
    is `pause` seconds, to the nearest frame that can be made: the clip's own padding and the next clip's
    lead-in already count."""
    wanted = (round(SAMPLE_RATE * pause) - (clip.played - clip.samples)) / FRAME_SAMPLES
    frames = max(0, round(wanted))
    if 0 < frames <= LEAD_FRAMES:  # fewer frames than an encoder's least: none, or its least
        frames = 0 if wanted < (LEAD_FRAMES + 1) / 2 else LEAD_FRAMES + 1
    return frames


_BITRATES_V1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_BITRATES_V2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def mp3_frames(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(offset, length, samples) of each MPEG Layer III frame, after any ID3v2 tag."""
    offset = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = data[6] << 21 | data[7] << 14 | data[8] << 7 | data[9]
        offset = 10 + size
    while offset + 4 <= len(data) and data[offset : offset + 3] != b"TAG":  # ID3v1 ends the audio
        header = int.from_bytes(data[offset : offset + 4], "big")
        version = header >> 19 & 3
        if header >> 21 != 0x7FF or header >> 17 & 3 != 1 or version == 1:
            raise ValueError(f"not an MPEG Layer III frame at byte {offset}")
        bitrate = (_BITRATES_V1 if version == 3 else _BITRATES_V2)[header >> 12 & 15] * 1000
        rate = _RATES[version][header >> 10 & 3]
        samples = 1152 if version == 3 else 576
        length = samples // 8 * bitrate // rate + (header >> 9 & 1)
        if length <= 0 or offset + length > len(data):
            raise ValueError(f"truncated MPEG frame at byte {offset}")
        yield offset, length, samples
        offset += length


def mp3_frame_count(data: bytes) -> int:
    return sum(1 for _ in mp3_frames(data))
