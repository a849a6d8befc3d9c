"""How the citizen screen looks: calm and legible, and a large-type high-contrast variant.

Sizes are given for an 800-pixel-high screen and scaled to the real one, so a
1080p monitor gets proportionally larger type. The large mode (for elderly
citizens, and anyone who asks) is yellow and white on black, a third larger.

The sheet is set on the citizen screen itself, so it wins over the application's
sheet and never touches the clerk's window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LARGE_FACTOR = 1.3
BASE_HEIGHT = 800


@dataclass(frozen=True)
class Palette:
    background: str
    text: str
    muted: str
    banner: str
    banner_text: str
    accent: str  # the called number
    title: str
    card: str
    card_border: str
    primary: str  # confirm buttons
    primary_text: str
    secondary: str
    secondary_text: str
    secondary_border: str
    disabled: str
    disabled_text: str
    checked: str
    checked_text: str


CALM = Palette(
    background="#f5f7fa",
    text="#1f2937",
    muted="#4b5563",
    banner="#1e3a8a",
    banner_text="#ffffff",
    accent="#b91c1c",
    title="#1e3a8a",
    card="#ffffff",
    card_border="#d1d5db",
    primary="#15803d",
    primary_text="#ffffff",
    secondary="#ffffff",
    secondary_text="#1e3a8a",
    secondary_border="#1e3a8a",
    disabled="#d1d5db",
    disabled_text="#4b5563",
    checked="#1e3a8a",
    checked_text="#ffffff",
)

HIGH_CONTRAST = Palette(
    background="#000000",
    text="#ffffff",
    muted="#f5f5f5",
    banner="#000000",
    banner_text="#ffd600",
    accent="#ffd600",
    title="#ffd600",
    card="#000000",
    card_border="#ffffff",
    primary="#ffd600",
    primary_text="#000000",
    secondary="#000000",
    secondary_text="#ffffff",
    secondary_border="#ffffff",
    disabled="#3f3f3f",
    disabled_text="#d4d4d4",
    checked="#ffd600",
    checked_text="#000000",
)


def palette(large: bool) -> Palette:
    return HIGH_CONTRAST if large else CALM


def scale_for_height(height: int) -> float:
    """Type scale for a screen this many pixels high (1.0 at 800), within sensible bounds."""
    return min(max(height / BASE_HEIGHT, 0.7), 2.2)


def stylesheet(large: bool, scale: float = 1.0) -> str:
    p = palette(large)
    f = scale * (LARGE_FACTOR if large else 1.0)

    def px(n: float) -> str:
        return f"{round(n * f)}px"

    def bx(n: float) -> str:  # borders and radii grow with the screen, not with the large mode
        return f"{max(1, round(n * scale))}px"

    border = bx(4) if large else bx(2)
    css = f"""
#citizenScreen {{ background: {p.background}; }}
#citizenScreen QWidget {{ color: {p.text}; font-size: {px(24)}; }}
#citizenScreen QLabel {{ background: transparent; }}
#citizenBanner {{ background: {p.banner}; border-bottom: {bx(4) if large else "0px"} solid {p.accent}; }}
#citizenBanner QLabel {{ color: {p.banner_text}; font-size: {px(28)}; font-weight: bold; padding: {bx(10)}; }}
#citizenBanner QPushButton {{
    background: transparent; color: {p.banner_text}; border: {bx(2)} solid {p.banner_text};
    border-radius: {bx(10)}; font-size: {px(22)}; font-weight: bold; padding: {bx(6)} {bx(18)};
    min-height: {bx(52)};
}}
#citizenBanner QPushButton:checked {{ background: {p.banner_text}; color: {p.banner}; }}
#citizenCaption {{ font-size: {px(34)}; color: {p.muted}; }}
#citizenWelcome {{ font-size: {px(64)}; font-weight: bold; color: {p.title}; }}
#citizenNumber {{ font-size: {px(150)}; font-weight: bold; color: {p.accent}; }}
#citizenCalledNumber {{ font-size: {px(190)}; font-weight: bold; color: {p.accent}; }}
#citizenCalledLine {{ font-size: {px(56)}; font-weight: bold; color: {p.title}; }}
#clerkCard {{ background: {p.card}; border: {border} solid {p.card_border}; border-radius: {bx(18)}; }}
#clerkCaption {{ font-size: {px(24)}; color: {p.muted}; }}
#clerkName {{ font-size: {px(40)}; font-weight: bold; }}
#clerkStaffNo {{ font-size: {px(26)}; color: {p.muted}; }}
#citizenClock {{ font-size: {px(26)}; color: {p.muted}; padding: {bx(10)}; }}
#citizenTitle {{ font-size: {px(44)}; font-weight: bold; color: {p.title}; padding: {bx(8)}; }}
#citizenSubtitle {{ font-size: {px(28)}; color: {p.muted}; }}
#citizenHint {{ font-size: {px(22)}; color: {p.muted}; }}
#citizenMessage {{ font-size: {px(48)}; font-weight: bold; color: {p.title}; }}
#citizenMessageDetail {{ font-size: {px(30)}; color: {p.muted}; }}
#fieldLabel {{ font-size: {px(26)}; color: {p.muted}; }}
#fieldValue {{ font-size: {px(36)}; font-weight: bold; }}
#materialsCard {{ background: {p.card}; border: {border} solid {p.card_border}; border-radius: {bx(14)}; }}
#materialsTitle {{ font-size: {px(28)}; font-weight: bold; color: {p.title}; }}
#materialsList {{ font-size: {px(24)}; }}
#citizenScreen QScrollArea {{ background: transparent; border: none; }}
#citizenScreen QScrollArea > QWidget > QWidget {{ background: transparent; }}
#ratingCountdown {{ font-size: {px(24)}; color: {p.muted}; }}
#citizenScreen QPushButton {{
    background: {p.secondary}; color: {p.secondary_text}; border: {border} solid {p.secondary_border};
    border-radius: {bx(14)}; font-size: {px(28)}; font-weight: bold; padding: {bx(10)} {bx(24)};
    min-height: {bx(72)};
}}
#citizenScreen QPushButton:disabled {{
    background: {p.disabled}; color: {p.disabled_text}; border-color: {p.disabled};
}}
#citizenScreen QPushButton#primaryButton {{
    background: {p.primary}; color: {p.primary_text}; border-color: {p.primary};
    font-size: {px(34)}; min-height: {bx(96)};
}}
#citizenScreen QPushButton#primaryButton:disabled {{
    background: {p.disabled}; color: {p.disabled_text}; border-color: {p.disabled};
}}
#citizenScreen QPushButton#reasonButton {{
    font-size: {px(24)}; min-height: {bx(84)}; padding: {bx(6)} {bx(10)};
}}
#citizenScreen QPushButton#reasonButton:checked {{
    background: {p.checked}; color: {p.checked_text}; border-color: {p.checked};
}}
#citizenScreen QLineEdit {{
    background: {p.card}; color: {p.text}; border: {border} solid {p.card_border};
    border-radius: {bx(10)}; font-size: {px(26)}; padding: {bx(12)};
}}
"""
    # "#citizenScreen QWidget" outranks a bare "#name" (an id and a type beat one id), so every
    # rule for a named widget is given the screen's id too.
    return re.sub(r"(?m)^#(?!citizenScreen\b)", "#citizenScreen #", css)


def rating_button_px(large: bool, scale: float = 1.0) -> float:
    """The rating buttons' type size: five to a row, so a little less growth in the large mode
    than elsewhere keeps 非常不满意 on one line with air around it."""
    return 28 * scale * (1.22 if large else 1.0)


def rating_button_sheet(color: str, large: bool, scale: float = 1.0, font_px: float | None = None) -> str:
    """A rating level's button: its own colour, white text, a white rim in the large mode."""
    px = round(font_px if font_px is not None else rating_button_px(large, scale))
    rim = f"{max(2, round(4 * scale))}px solid #ffffff" if large else f"0px solid {color}"
    return (
        f"QToolButton {{ background: {color}; color: #ffffff; font-size: {px}px; "
        f"font-weight: bold; border: {rim}; border-radius: {round(16 * scale)}px; "
        f"padding: {round(8 * scale)}px; min-height: {round(190 * scale)}px; }}"
        f"QToolButton:pressed {{ background: #111827; }}"
        f"QToolButton:disabled {{ background: {color}; color: #ffffff; }}"
    )
