"""Example answers for the OpenAPI document: one small workspace over two UTC days.

Each report has a JSON body and the CSV the same request gets with ``format=csv``;
they tell one story (the CSV lines add up to the JSON totals, the lists are the
sums of the rows), so a reader can check a parser against them by hand. The
tests hold them to the schemas and to those sums (tests/api/test_openapi.py).
Decimals (credits, seconds) are plain JSON numbers here, written as the API
writes them; parse them as decimals.
"""

from __future__ import annotations

from typing import Any

WORKSPACE_ID = "3f2c6a0e-8b1d-4c5e-9a7f-0d1e2f3a4b5c"
MEMBER_ID = "7b0e4c1d-2a3f-4e5d-8c6b-9a0f1e2d3c4b"
_RANGE = {"start_date": "2026-04-01", "end_date": "2026-04-02"}
_CAMEL_RANGE = {"startDate": "2026-04-01", "endDate": "2026-04-02"}
_DATA_AS_OF = "2026-04-03T00:14:07.482113Z"


def _lines(*lines: str) -> str:
    """CSV text as the API writes it: each line ends with CRLF."""
    return "".join(line + "\r\n" for line in lines)


AI_USAGE = {
    "workspace_id": WORKSPACE_ID,
    **_RANGE,
    "data_as_of": _DATA_AS_OF,
    "total_messages": 57,
    "total_tokens": 34400,
    "total_prompt_tokens": 26800,
    "total_completion_tokens": 7600,
    "total_cached_tokens": 3000,
    "total_audio_input_tokens": 5200,
    "total_audio_output_tokens": 3100,
    "total_credits": 5.574,
    "by_provider": [
        {
            "provider": "openai",
            "total_tokens": 23300,
            "total_cached_tokens": 3000,
            "total_audio_input_tokens": 5200,
            "total_audio_output_tokens": 3100,
            "total_credits": 4.575,
        },
        {
            "provider": "anthropic",
            "total_tokens": 11100,
            "total_cached_tokens": 0,
            "total_audio_input_tokens": 0,
            "total_audio_output_tokens": 0,
            "total_credits": 0.999,
        },
    ],
    "by_type": [
        {
            "type": "chat",
            "total_tokens": 33000,
            "total_cached_tokens": 3000,
            "total_audio_input_tokens": 0,
            "total_audio_output_tokens": 0,
            "total_credits": 3.189,
        },
        {
            "type": "realtime",
            "total_tokens": 1400,
            "total_cached_tokens": 0,
            "total_audio_input_tokens": 5200,
            "total_audio_output_tokens": 3100,
            "total_credits": 2.385,
        },
    ],
    "top_models": [
        {
            "model": "gpt-4o-realtime",
            "provider": "openai",
            "type": "realtime",
            "total_tokens": 1400,
            "total_credits": 2.385,
        },
        {
            "model": "gpt-4o",
            "provider": "openai",
            "type": "chat",
            "total_tokens": 21900,
            "total_credits": 2.19,
        },
        {
            "model": "claude-sonnet-4",
            "provider": "anthropic",
            "type": "chat",
            "total_tokens": 11100,
            "total_credits": 0.999,
        },
    ],
}
AI_USAGE_CSV = _lines(
    "date,provider,model,type,prompt_tokens,completion_tokens,total_tokens,cached_tokens,"
    "audio_input_tokens,audio_output_tokens,credits",
    "2026-04-01,openai,gpt-4o,chat,12000,3400,15400,2000,0,0,1.54",
    "2026-04-01,openai,gpt-4o-realtime,realtime,800,600,1400,0,5200,3100,2.385",
    "2026-04-02,anthropic,claude-sonnet-4,chat,9000,2100,11100,0,0,0,0.999",
    "2026-04-02,openai,gpt-4o,chat,5000,1500,6500,1000,0,0,0.65",
)

SMS_USAGE = {
    "workspaceId": WORKSPACE_ID,
    **_CAMEL_RANGE,
    "dataAsOf": _DATA_AS_OF,
    "totalMessages": 80,
    "totalInbound": 24,
    "totalOutbound": 56,
    "totalCharacters": 7562,
    "totalSegments": 89,
    "totalInboundSegments": 26,
    "totalOutboundSegments": 63,
    "rows": [
        {
            "date": "2026-04-01",
            "phoneNumber": "+14155550100",
            "inbound": 12,
            "outbound": 30,
            "characters": 4210,
            "segments": 48,
            "inboundSegments": 13,
            "outboundSegments": 35,
        },
        {
            "date": "2026-04-01",
            "phoneNumber": "+14155550111",
            "inbound": 3,
            "outbound": 5,
            "characters": 402,
            "segments": 8,
            "inboundSegments": 3,
            "outboundSegments": 5,
        },
        {
            "date": "2026-04-02",
            "phoneNumber": "+14155550100",
            "inbound": 9,
            "outbound": 21,
            "characters": 2950,
            "segments": 33,
            "inboundSegments": 10,
            "outboundSegments": 23,
        },
    ],
}
SMS_USAGE_CSV = _lines(
    "date,phone_number,inbound,outbound,characters,segments,inbound_segments,outbound_segments",
    "2026-04-01,+14155550100,12,30,4210,48,13,35",
    "2026-04-01,+14155550111,3,5,402,8,3,5",
    "2026-04-02,+14155550100,9,21,2950,33,10,23",
)

PHONE_USAGE = {
    "workspaceId": WORKSPACE_ID,
    **_CAMEL_RANGE,
    "dataAsOf": _DATA_AS_OF,
    "totalCalls": 19,
    "totalInbound": 7,
    "totalOutbound": 12,
    "totalDurationSeconds": 2902,
    "rows": [
        {
            "date": "2026-04-01",
            "phoneNumber": "+14155550100",
            "inbound": 4,
            "outbound": 7,
            "totalDurationSeconds": 1893,
        },
        {
            "date": "2026-04-02",
            "phoneNumber": "+14155550100",
            "inbound": 2,
            "outbound": 5,
            "totalDurationSeconds": 964,
        },
        {
            "date": "2026-04-02",
            "phoneNumber": "+14155550111",
            "inbound": 1,
            "outbound": 0,
            "totalDurationSeconds": 45,
        },
    ],
}
PHONE_USAGE_CSV = _lines(
    "date,phone_number,inbound,outbound,total_duration_seconds",
    "2026-04-01,+14155550100,4,7,1893",
    "2026-04-02,+14155550100,2,5,964",
    "2026-04-02,+14155550111,1,0,45",
)

VOICE_USAGE = {
    "workspaceId": WORKSPACE_ID,
    **_CAMEL_RANGE,
    "dataAsOf": _DATA_AS_OF,
    "totalSttDurationSeconds": 571.18,
    "totalSttMessages": 72,
    "totalTtsCharacters": 27360,
    "totalTtsMessages": 78,
    "sttByProvider": [
        {"provider": "deepgram", "model": "nova-3", "durationSeconds": 510.68, "messages": 68},
        {"provider": "openai", "model": "whisper-1", "durationSeconds": 60.5, "messages": 4},
    ],
    "ttsByProvider": [
        {"provider": "elevenlabs", "model": "eleven_turbo_v2_5", "characters": 27360, "messages": 78},
    ],
    "sttRows": [
        {
            "date": "2026-04-01",
            "provider": "deepgram",
            "model": "nova-3",
            "durationSeconds": 312.48,
            "messages": 41,
        },
        {
            "date": "2026-04-02",
            "provider": "deepgram",
            "model": "nova-3",
            "durationSeconds": 198.2,
            "messages": 27,
        },
        {
            "date": "2026-04-02",
            "provider": "openai",
            "model": "whisper-1",
            "durationSeconds": 60.5,
            "messages": 4,
        },
    ],
    "ttsRows": [
        {
            "date": "2026-04-01",
            "provider": "elevenlabs",
            "model": "eleven_turbo_v2_5",
            "characters": 18240,
            "messages": 52,
        },
        {
            "date": "2026-04-02",
            "provider": "elevenlabs",
            "model": "eleven_turbo_v2_5",
            "characters": 9120,
            "messages": 26,
        },
    ],
}
VOICE_USAGE_CSV = _lines(
    "date,kind,provider,model,messages,duration_seconds,characters",
    "2026-04-01,stt,deepgram,nova-3,41,312.48,",
    "2026-04-01,tts,elevenlabs,eleven_turbo_v2_5,52,,18240",
    "2026-04-02,stt,deepgram,nova-3,27,198.2,",
    "2026-04-02,stt,openai,whisper-1,4,60.5,",
    "2026-04-02,tts,elevenlabs,eleven_turbo_v2_5,26,,9120",
)

MEMBER_USAGE = {
    "workspaceId": WORKSPACE_ID,
    "memberId": MEMBER_ID,
    **_CAMEL_RANGE,
    "dataAsOf": _DATA_AS_OF,
    "totalChats": 6,
    "totalMessages": 41,
    "totalCredits": 1.2345,
    "totalTokens": 18250,
}
MEMBER_USAGE_CSV = _lines(
    "date,chats,messages,credits,tokens",
    "2026-04-01,4,25,0.8345,12000",
    "2026-04-02,2,16,0.4,6250",
)

MEMBERS = [
    {"memberId": MEMBER_ID, "displayName": "Ada Lovelace", "role": "Admin"},
    {"memberId": "0c9d8e7f-6a5b-4c3d-8e1f-2a3b4c5d6e7f", "displayName": "Grace Hopper", "role": "Member"},
]

# Per schema: its JSON example and the CSV the same request gets (None: no CSV).
EXAMPLES: dict[str, tuple[Any, str | None]] = {
    "AiUsageReport": (AI_USAGE, AI_USAGE_CSV),
    "SmsUsageReport": (SMS_USAGE, SMS_USAGE_CSV),
    "PhoneUsageReport": (PHONE_USAGE, PHONE_USAGE_CSV),
    "VoiceUsageReport": (VOICE_USAGE, VOICE_USAGE_CSV),
    "MemberUsageReport": (MEMBER_USAGE, MEMBER_USAGE_CSV),
    "MemberList": (MEMBERS, None),
}
