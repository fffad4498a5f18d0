"""Font families that Debian packages ship, found on disk, and one glyph of one rendered.

The character corpus (`corpus.py`) draws its print and handwriting-like glyphs from these files.
The list is fixed, not whatever fontconfig finds, so that the same packages give the same corpus on
every machine, and the held-out validation families are named here once (`VALIDATION`).
`make system` installs the packages; `PACKAGES` is its list.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_ROOT = Path("/usr/share/fonts")


@dataclass(frozen=True)
class Family:
    """One typeface: its name, the Debian package that ships it, its files (under FONT_ROOT), and
    whether it imitates handwriting (script, marker, school hands) or print."""

    name: str
    package: str
    files: tuple[str, ...]
    handwriting: bool


# Where each package puts its files, under FONT_ROOT.
FOLDERS: dict[str, str] = {
    "fonts-comic-neue": "opentype/comic-neue", "fonts-breip": "truetype/breip",
    "fonts-dancingscript": "opentype/dancingscript", "fonts-femkeklaver": "truetype/femkeklaver",
    "fonts-humor-sans": "truetype/humor-sans", "fonts-ecolier-court": "truetype/ecolier-court",
    "fonts-tomsontalks": "truetype/tomsontalks", "fonts-cabinsketch": "truetype/cabinsketch",
    "fonts-staypuft": "truetype/staypuft", "fonts-tlwg-purisa-ttf": "truetype/tlwg",
    "fonts-urw-base35": "opentype/urw-base35", "fonts-sil-andika": "truetype/andika",
    "fonts-dejavu-core": "truetype/dejavu", "fonts-liberation2": "truetype/liberation2",
    "fonts-freefont-ttf": "truetype/freefont", "fonts-quicksand": "truetype/quicksand",
    "fonts-lohit-deva": "truetype/lohit-devanagari", "fonts-lohit-deva-marathi": "truetype/lohit-marathi",
    "fonts-samyak-deva": "truetype/samyak", "fonts-gargi": "truetype/Gargi", "fonts-sarai": "truetype/Sarai",
    "fonts-nakula": "truetype/Nakula", "fonts-sahadeva": "truetype/Sahadeva",
    "fonts-hosny-amiri": "opentype/fonts-hosny-amiri", "fonts-sil-lateef": "opentype/lateef",
    "fonts-sil-scheherazade": "truetype/scheherazade", "fonts-sil-harmattan": "truetype/harmattan",
    "fonts-farsiweb": "truetype/farsiweb", "fonts-kacst": "truetype/kacst", "fonts-kacst-one": "truetype/kacst-one",
    "fonts-arabeyes": "truetype/fonts-arabeyes",
    "fonts-bwht": "opentype/bwht", "fonts-dkg-handwriting": "truetype/fifthhorseman",
    "fonts-kristi": "truetype/kristi", "fonts-kaushanscript": "opentype/kaushanscript",
    "fonts-leckerli-one": "truetype/leckerli-one", "fonts-open-sans": "truetype/open-sans",
    "fonts-cantarell": "opentype/cantarell", "fonts-go": "fonts-go",
    "fonts-inconsolata": "truetype/inconsolata", "fonts-crosextra-carlito": "truetype/crosextra",
    "fonts-linuxlibertine": "opentype/linux-libertine", "fonts-ebgaramond": "opentype/ebgaramond",
    "fonts-jura": "opentype/jura", "fonts-oxygen": "truetype/oxygen", "fonts-hack": "truetype/hack",
    "fonts-opendyslexic": "opentype/opendyslexic", "fonts-opendin": "truetype/opendin",
    "fonts-gnutypewriter": "truetype/gnutypewriter",
}  # fmt: skip

# (family, package, its files' stems, imitates handwriting): a few faces of each family, the
# regular, bold and italic where it has them, so that one family gives several pen weights.
TABLE: tuple[tuple[str, str, str, bool], ...] = (
    ("Comic Neue", "fonts-comic-neue", "ComicNeue-Regular ComicNeue-Bold ComicNeue-Italic ComicNeue-Light", True),
    ("Breip", "fonts-breip", "Breip", True),
    ("Dancing Script", "fonts-dancingscript", "DancingScript-Regular DancingScript-Bold", True),
    ("Femke Klaver", "fonts-femkeklaver", "femkeklaver", True),
    ("Humor Sans", "fonts-humor-sans", "Humor-Sans", True),
    ("Ecolier", "fonts-ecolier-court", "Ecolier-court", True),
    ("Tomson Talks", "fonts-tomsontalks", "TomsonTalks", True),
    ("Cabin Sketch", "fonts-cabinsketch", "CabinSketch-Regular", True),
    ("Stay Puft", "fonts-staypuft", "StayPuft", True),
    ("Purisa", "fonts-tlwg-purisa-ttf", "Purisa Purisa-Bold Purisa-Oblique", True),
    ("Z003", "fonts-urw-base35", "Z003-MediumItalic", True),
    ("Andika", "fonts-sil-andika", "Andika-Regular Andika-Italic Andika-Bold", True),
    ("DejaVu Sans", "fonts-dejavu-core", "DejaVuSans DejaVuSans-Bold DejaVuSans-Oblique DejaVuSans-ExtraLight DejaVuSansCondensed", False),
    ("DejaVu Serif", "fonts-dejavu-core", "DejaVuSerif DejaVuSerif-Bold DejaVuSerif-Italic", False),
    ("DejaVu Sans Mono", "fonts-dejavu-core", "DejaVuSansMono DejaVuSansMono-Bold", False),
    ("Liberation Sans", "fonts-liberation2", "LiberationSans-Regular LiberationSans-Bold LiberationSans-Italic", False),
    ("Liberation Serif", "fonts-liberation2", "LiberationSerif-Regular LiberationSerif-Bold LiberationSerif-Italic", False),
    ("Liberation Mono", "fonts-liberation2", "LiberationMono-Regular LiberationMono-Bold", False),
    ("FreeSans", "fonts-freefont-ttf", "FreeSans FreeSansBold FreeSansOblique", False),
    ("FreeSerif", "fonts-freefont-ttf", "FreeSerif FreeSerifBold FreeSerifItalic", False),
    ("FreeMono", "fonts-freefont-ttf", "FreeMono FreeMonoBold", False),
    ("Nimbus Sans", "fonts-urw-base35", "NimbusSans-Regular NimbusSans-Bold NimbusSans-Italic NimbusSansNarrow-Regular", False),
    ("Nimbus Roman", "fonts-urw-base35", "NimbusRoman-Regular NimbusRoman-Bold NimbusRoman-Italic", False),
    ("Nimbus Mono", "fonts-urw-base35", "NimbusMonoPS-Regular NimbusMonoPS-Bold", False),
    ("C059", "fonts-urw-base35", "C059-Roman C059-Bold C059-Italic", False),
    ("P052", "fonts-urw-base35", "P052-Roman P052-Bold P052-Italic", False),
    ("URW Bookman", "fonts-urw-base35", "URWBookman-Light URWBookman-Demi URWBookman-LightItalic", False),
    ("URW Gothic", "fonts-urw-base35", "URWGothic-Book URWGothic-Demi URWGothic-BookOblique", False),
    ("Quicksand", "fonts-quicksand", "Quicksand-Regular Quicksand-Bold Quicksand-Light", False),
    # Added 2026-12-02 (training only): more hands and faces, so that held-out families read better.
    ("Because We Had To", "fonts-bwht", "BecauseWeBuild-Regular BecauseWeConnect-Regular BecauseWeCreate-Regular BecauseWeLearn-Regular BecauseWeMentor-Regular BecauseWeOrganize-Regular", True),
    ("DKG Handwriting", "fonts-dkg-handwriting", "dkg dkgBd dkgIt dkgBI", True),
    ("Kristi", "fonts-kristi", "Kristi", True),
    ("Kaushan Script", "fonts-kaushanscript", "KaushanScript-Regular", True),
    ("Leckerli One", "fonts-leckerli-one", "LeckerliOne-Regular", True),
    ("OpenDyslexic", "fonts-opendyslexic", "OpenDyslexic-Regular OpenDyslexic-Bold OpenDyslexic-Italic OpenDyslexicAlta-Regular", False),
    ("Open Sans", "fonts-open-sans", "OpenSans-Regular OpenSans-Bold OpenSans-Italic OpenSans-Light OpenSans-CondBold", False),
    ("Cantarell", "fonts-cantarell", "Cantarell-Regular Cantarell-Bold Cantarell-Light Cantarell-Thin", False),
    ("Go", "fonts-go", "Go-Regular Go-Bold Go-Italic Go-Medium Go-Mono", False),
    ("Inconsolata", "fonts-inconsolata", "Inconsolata.otf", False),
    ("Carlito", "fonts-crosextra-carlito", "Carlito-Regular Carlito-Bold Carlito-Italic", False),
    ("Linux Libertine", "fonts-linuxlibertine", "LinLibertine_R LinLibertine_RB LinLibertine_RI", False),
    ("Linux Biolinum", "fonts-linuxlibertine", "LinBiolinum_R LinBiolinum_RB LinBiolinum_RI", False),
    ("EB Garamond", "fonts-ebgaramond", "EBGaramond12-Regular EBGaramond12-Bold EBGaramond12-Italic", False),
    ("Jura", "fonts-jura", "Jura-Regular Jura-Bold Jura-Light", False),
    ("Oxygen", "fonts-oxygen", "Oxygen-Sans Oxygen-Sans-Bold OxygenMono-Regular", False),
    ("Hack", "fonts-hack", "Hack-Regular Hack-Bold Hack-Italic", False),
    ("OSP-DIN", "fonts-opendin", "OSP-DIN", False),
    ("GNU Typewriter", "fonts-gnutypewriter", "GNUTypewriter", False),
)  # fmt: skip

# Families whose lower case is drawn as capitals: their lower-case letters that are classes of
# their own (a, b, d, ..., not merged with the capital) would be capitals under a lower-case label.
CAPITALS_ONLY: frozenset[str] = frozenset({"Tomson Talks", "Because We Had To"})


# The digits of other scripts (Devanagari, Arabic-Indic, Persian), for the script model only: a
# family of its own table never enters the Latin corpus, which stays as it was. The Latin families
# that draw these digits too (DejaVu Sans, the FreeFont faces) are used for them as well.
SCRIPT_TABLE: tuple[tuple[str, str, str, bool], ...] = (
    ("Lohit Devanagari", "fonts-lohit-deva", "Lohit-Devanagari", False),
    ("Lohit Marathi", "fonts-lohit-deva-marathi", "Lohit-Marathi", False),
    ("Samyak Devanagari", "fonts-samyak-deva", "Samyak-Devanagari", False),
    ("Gargi", "fonts-gargi", "Gargi", False),
    ("Sarai", "fonts-sarai", "Sarai", False),
    ("Nakula", "fonts-nakula", "nakula", False),
    ("Sahadeva", "fonts-sahadeva", "sahadeva", False),
    ("Amiri", "fonts-hosny-amiri", "Amiri-Regular.ttf Amiri-Bold.ttf Amiri-Slanted.ttf Amiri-BoldSlanted.ttf", False),
    ("Lateef", "fonts-sil-lateef", "Lateef-Regular.ttf Lateef-Bold.ttf Lateef-ExtraLight.ttf Lateef-ExtraBold.ttf", False),
    ("Scheherazade", "fonts-sil-scheherazade", "Scheherazade-Regular Scheherazade-Bold", False),
    ("Harmattan", "fonts-sil-harmattan", "Harmattan-Regular Harmattan-Bold", False),
    ("Homa", "fonts-farsiweb", "homa", False),
    ("Nazli", "fonts-farsiweb", "nazli nazlib", False),
    ("Titr", "fonts-farsiweb", "titr", False),
    ("KACST", "fonts-kacst", "KacstBook KacstNaskh KacstOffice KacstPen KacstLetter KacstFarsi KacstArt KacstDigital KacstPoster KacstTitle KacstScreen", False),
    ("KacstOne", "fonts-kacst-one", "KacstOne KacstOne-Bold", False),
    ("Arabeyes A", "fonts-arabeyes", "ae_AlArabiya ae_AlBattar ae_AlHor ae_AlManzomah ae_AlYarmook ae_Arab ae_Cortoba ae_Dimnah ae_Electron ae_Furat ae_Granada ae_Graph ae_Hani ae_Haramain ae_Hor ae_Japan ae_Jet ae_Kayrawan", False),
    ("Arabeyes B", "fonts-arabeyes", "ae_Khalid ae_Mashq ae_Mashq-Bold ae_Metal ae_Nada ae_Nagham ae_Nice ae_Ostorah ae_Ouhod-Bold ae_Petra ae_Rasheeq-Bold ae_Rehan ae_Salem ae_Shado ae_Sharjah ae_Sindbad ae_Tarablus ae_Tholoth", False),
)  # fmt: skip


def _family(name: str, package: str, stems: str, handwriting: bool) -> Family:
    """A TABLE row as a Family; a stem without an extension is .otf under opentype/, else .ttf."""
    folder = FOLDERS[package]
    suffix = ".otf" if folder.startswith("opentype") else ".ttf"
    files = tuple(
        f"{folder}/{s}" if s.endswith((".ttf", ".otf")) else f"{folder}/{s}{suffix}" for s in stems.split()
    )
    return Family(name, package, files, handwriting)


FAMILIES: tuple[Family, ...] = tuple(_family(*row) for row in TABLE)
SCRIPT_FAMILIES: tuple[Family, ...] = tuple(_family(*row) for row in SCRIPT_TABLE)

# Whole families kept out of training, to measure on shapes the model never saw: two hands, a
# chancery script, a geometric and a serif print face (one of each kind the training set has).
VALIDATION: frozenset[str] = frozenset({"Humor Sans", "Purisa", "Z003", "URW Gothic", "Liberation Serif"})
# The script model's: two Devanagari faces; for Arabic-Indic and Persian, four (three with Persian's own 4-6).
SCRIPT_VALIDATION: frozenset[str] = frozenset(
    {"Sarai", "Samyak Devanagari", "Harmattan", "Nazli", "KacstOne", "Arabeyes B"}
)

PACKAGES: tuple[str, ...] = tuple(sorted({f.package for f in FAMILIES + SCRIPT_FAMILIES}))


def installed_files(family: Family) -> list[Path]:
    """The family's font files that are on this machine (none when its package is missing)."""
    return [FONT_ROOT / f for f in family.files if (FONT_ROOT / f).is_file()]


def missing_packages() -> list[str]:
    """Packages of PACKAGES with no file on this machine: `make system` installs them."""
    present = {f.package for f in FAMILIES + SCRIPT_FAMILIES if installed_files(f)}
    return [p for p in PACKAGES if p not in present]


@cache
def load(path: Path, size: int) -> ImageFont.FreeTypeFont:
    """A font at a pixel size, cached: opening a file costs far more than drawing a glyph."""
    return ImageFont.truetype(str(path), size)


def render(path: Path, char: str, size: int, canvas: int) -> np.ndarray:
    """One glyph, white on black (MNIST's polarity), float32 in [0, 1], centred on a square canvas
    of `canvas` pixels. `size` is the font's pixel size; the glyph is cropped, never cut off: a
    glyph larger than the canvas is shrunk to fit."""
    font = load(path, size)
    left, top, right, bottom = font.getbbox(char)
    width, height = max(1, int(right - left)), max(1, int(bottom - top))
    image = Image.new("L", (width + 4, height + 4), 0)
    ImageDraw.Draw(image).text((2 - int(left), 2 - int(top)), char, fill=255, font=font)
    if max(image.size) > canvas - 4:
        scale = (canvas - 4) / max(image.size)
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    out = Image.new("L", (canvas, canvas), 0)
    out.paste(image, ((canvas - image.width) // 2, (canvas - image.height) // 2))
    return np.asarray(out, np.float32) / 255


@cache
def has_glyph(path: Path, char: str) -> bool:
    """Whether the font draws `char` itself: some ink, and not the box it draws for characters it
    lacks (a private-use code point stands for those)."""
    glyph = render(path, char, 32, 48)
    return bool(glyph.max() > 0.5) and not np.array_equal(glyph, render(path, "\ue000", 32, 48))
