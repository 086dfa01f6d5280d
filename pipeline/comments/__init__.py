"""Comments stage: comment text -> masked text + personal-data findings + moderation flags.

- `privacy`: personal data found and masked (kinds and positions, never values);
- `moderation`: insults, slurs, threats, sexual content, self-harm signals (Finnish stems).
"""

from pipeline.comments.moderation import (
    CATEGORY_NAMES,
    PERSONAL_DATA,
    SELF_HARM_HINT,
    Flag,
    check_comment,
    describe_flags,
    load_lists,
    needs_personal_response,
    read_comments_file,
)
from pipeline.comments.privacy import (
    clean_display_text,
    describe_findings,
    find_personal_data_in_cues,
    mask_cues,
    mask_personal_data,
)

__all__ = ["CATEGORY_NAMES", "Flag", "PERSONAL_DATA", "SELF_HARM_HINT", "check_comment", "clean_display_text", "describe_findings", "describe_flags", "find_personal_data_in_cues", "load_lists", "mask_cues", "mask_personal_data", "needs_personal_response", "read_comments_file"]
