"""The looks: one :class:`GenreStyle` per genre (palette, background, motifs, strokes, title words) and the
per-author :class:`AuthorStyle` signature with the tables its traits are drawn from."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.demo.colour import RGB
from catalog.demo.names import word_pairs


@dataclass(frozen=True)
class GenreStyle:
    name: str
    ko: str
    hues: tuple[float, ...]  # palette hue centres (0..1)
    hue_spread: float
    sat: tuple[float, float]
    val: tuple[float, float]
    background: str
    motifs: tuple[str, ...]
    line: float  # base stroke width as a fraction of the short side
    noise: float  # std of monochrome pixel noise (0..1 scale)
    outline: bool  # bold ink outlines on the character
    skin_dim: float  # multiplies skin brightness (thriller faces are in shadow)
    fixed_hue_order: bool  # palette[0] is always hues[0] (sports: the field is green)
    tags: tuple[str, ...]
    nouns: tuple[tuple[str, str], ...]  # (Korean, English) title nouns


GENRE_STYLES: tuple[GenreStyle, ...] = (
    GenreStyle(
        name="romance",
        ko="로맨스",
        hues=(0.95, 0.0, 0.03, 0.85),
        hue_spread=0.02,
        sat=(0.15, 0.45),
        val=(0.88, 1.0),
        background="radial",
        motifs=("bubbles", "hearts", "sparkles"),
        line=0.012,
        noise=0.0,
        outline=False,
        skin_dim=1.0,
        fixed_hue_order=False,
        tags=("첫사랑", "학원로맨스", "계약연애", "짝사랑", "설렘", "연상연하"),
        nouns=word_pairs(
            "약속=Promise, 고백=Confession, 편지=Letter, 첫사랑=First Love, 연애=Romance, 신부=Bride, "
            "꽃다발=Bouquet, 데이트=Date, 설렘=Flutter, 우산=Umbrella, 약혼=Engagement, 연인=Sweetheart"
        ),
    ),
    GenreStyle(
        name="fantasy",
        ko="판타지",
        hues=(0.72, 0.62, 0.8, 0.52),
        hue_spread=0.03,
        sat=(0.55, 0.95),
        val=(0.35, 0.9),
        background="night",
        motifs=("stars", "crescent", "sparkles"),
        line=0.02,
        noise=0.015,
        outline=False,
        skin_dim=0.95,
        fixed_hue_order=False,
        tags=("마법", "이세계", "회귀", "드래곤", "던전", "마탑"),
        nouns=word_pairs(
            "마법사=Mage, 왕국=Kingdom, 용=Dragon, 탑=Tower, 성좌=Constellation, 정령=Spirit, 마녀=Witch, "
            "던전=Dungeon, 예언=Prophecy, 왕관=Crown, 주문=Spell, 차원문=Gate"
        ),
    ),
    GenreStyle(
        name="action",
        ko="액션",
        hues=(0.0, 0.03, 0.07, 0.12),
        hue_spread=0.012,
        sat=(0.85, 1.0),
        val=(0.8, 1.0),
        background="split",
        motifs=("speed_lines", "streaks", "burst"),
        line=0.045,
        noise=0.0,
        outline=True,
        skin_dim=1.0,
        fixed_hue_order=False,
        tags=("격투", "헌터", "복수", "먼치킨", "레이드", "싸움"),
        nouns=word_pairs(
            "주먹=Fist, 칼날=Blade, 헌터=Hunter, 전쟁=War, 복수=Revenge, 결투=Duel, 폭주=Rampage, 레이드=Raid, "
            "용병=Mercenary, 전사=Warrior, 총성=Gunshot, 질주=Sprint"
        ),
    ),
    GenreStyle(
        name="slice_of_life",
        ko="일상",
        hues=(0.1, 0.14, 0.25, 0.06),
        hue_spread=0.02,
        sat=(0.3, 0.55),
        val=(0.8, 0.96),
        background="floor",
        motifs=("sun", "houses"),
        line=0.018,
        noise=0.0,
        outline=False,
        skin_dim=1.0,
        fixed_hue_order=False,
        tags=("일상", "힐링", "자취", "직장", "반려동물", "요리"),
        nouns=word_pairs(
            "일상=Days, 도시락=Lunchbox, 고양이=Cat, 동네=Neighbourhood, 자취방=Studio Flat, 산책=Walk, "
            "빵집=Bakery, 텃밭=Garden, 출근길=Commute, 방학=Vacation, 이웃=Neighbour, 식탁=Table"
        ),
    ),
    GenreStyle(
        name="comedy",
        ko="코믹",
        hues=(0.0, 0.15, 0.6, 0.33),
        hue_spread=0.01,
        sat=(0.85, 1.0),
        val=(0.9, 1.0),
        background="flat",
        motifs=("halftone", "blobs", "confetti"),
        line=0.04,
        noise=0.0,
        outline=True,
        skin_dim=1.0,
        fixed_hue_order=False,
        tags=("개그", "병맛", "학원", "가족", "동아리", "시트콤"),
        nouns=word_pairs(
            "소동=Ruckus, 작전=Scheme, 알바=Part-Timer, 동아리=Club, 사장님=Boss, 오리=Duck, 대작전=Operation, "
            "반장=Class President, 장난=Prank, 하숙집=Boarding House, 가족=Family, 좀비=Zombie"
        ),
    ),
    GenreStyle(
        name="thriller",
        ko="스릴러",
        hues=(0.5, 0.42, 0.58, 0.98),
        hue_spread=0.03,
        sat=(0.08, 0.3),
        val=(0.08, 0.35),
        background="dark",
        motifs=("shards", "cracks", "skyline"),
        line=0.02,
        noise=0.09,
        outline=False,
        skin_dim=0.45,
        fixed_hue_order=False,
        tags=("추리", "미스터리", "서스펜스", "범죄", "복수극", "생존"),
        nouns=word_pairs(
            "목격자=Witness, 실종=Disappearance, 비밀=Secret, 밀실=Locked Room, 그림자=Shadow, 거짓말=Lie, "
            "추적=Pursuit, 악몽=Nightmare, 용의자=Suspect, 흔적=Trace, 감옥=Prison, 골목=Alley"
        ),
    ),
    GenreStyle(
        name="drama",
        ko="드라마",
        hues=(0.07, 0.1, 0.16, 0.58),
        hue_spread=0.02,
        sat=(0.12, 0.35),
        val=(0.3, 0.72),
        background="gradient",
        motifs=("bands", "rain", "hills"),
        line=0.016,
        noise=0.025,
        outline=False,
        skin_dim=0.85,
        fixed_hue_order=False,
        tags=("성장", "가족", "감성", "휴먼", "청춘", "직장"),
        nouns=word_pairs(
            "유산=Inheritance, 기억=Memory, 계절=Season, 무대=Stage, 초상=Portrait, 이별=Farewell, "
            "집=House, 바다=Sea, 눈물=Tears, 귀향=Homecoming, 초대=Invitation, 약국=Pharmacy"
        ),
    ),
    GenreStyle(
        name="sports",
        ko="스포츠",
        hues=(0.31, 0.58, 0.07, 0.62),
        hue_spread=0.015,
        sat=(0.45, 0.8),
        val=(0.5, 0.85),
        background="field",
        motifs=("field_lines", "ball", "motion_arcs"),
        line=0.025,
        noise=0.0,
        outline=False,
        skin_dim=1.0,
        fixed_hue_order=True,
        tags=("축구", "야구", "농구", "배구", "성장", "청춘"),
        nouns=word_pairs(
            "에이스=Ace, 슛=Shot, 골키퍼=Goalkeeper, 스트라이커=Striker, 마운드=Mound, 링=Ring, 코트=Court, "
            "결승=Final, 배구부=Volleyball Club, 레이스=Race, 스파이크=Spike, 챔피언=Champion"
        ),
    ),
)
GENRES: tuple[str, ...] = tuple(g.name for g in GENRE_STYLES)
STYLE_BY_GENRE = {g.name: g for g in GENRE_STYLES}
# Which second genre an author is likely to also work in.
RELATED: dict[str, tuple[str, ...]] = {
    "romance": ("drama", "comedy", "fantasy", "slice_of_life"),
    "fantasy": ("action", "romance", "thriller"),
    "action": ("fantasy", "thriller", "sports"),
    "slice_of_life": ("comedy", "drama", "romance"),
    "comedy": ("slice_of_life", "romance", "sports"),
    "thriller": ("drama", "action", "fantasy"),
    "drama": ("romance", "thriller", "slice_of_life"),
    "sports": ("action", "comedy", "drama"),
}

TEXTURES = ("none", "hatching", "crosshatch", "halftone", "grain", "scanlines", "paper", "posterize", "soft")
SHAPES = ("circle", "triangle", "square", "diamond", "ring", "star", "cross")
BORDERS = ("none", "thin_dark", "thick_light", "double", "rounded", "colour_frame")
EYES = ("dots", "anime", "lines", "none")
INKS: tuple[RGB, ...] = ((15, 15, 20), (20, 30, 70), (60, 35, 20), (55, 20, 60))
SKINS: tuple[RGB, ...] = ((255, 226, 200), (248, 210, 178), (236, 192, 160), (205, 155, 120), (150, 105, 80))


@dataclass(frozen=True)
class AuthorStyle:
    name: str
    genres: tuple[str, ...]
    hue_shift: float
    sat_mult: float
    line_mult: float
    texture: str
    texture_period: int
    shape: str
    accent: RGB
    border: str
    eyes: str
    ink: RGB
    hair: int  # favourite hair shape (0 fringe, 1 spiky, 2 bob, 3 long)
