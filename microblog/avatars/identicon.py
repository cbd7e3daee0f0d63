"""Identicons: a small picture that is the same every time for the same seed, and (almost
always) different for different seeds, drawn without anything about the person in it.

A 5x5 grid mirrored left to right (15 free cells), in one colour, on a light background. The
seed only picks cells and a hue through SHA-256, so nothing of it can be read back from the
picture, and the SVG holds no text at all: only numbers and colours this module writes.
"""
import colorsys
import struct
import zlib
import hashlib

GRID = 5
MARGIN = 1  # cells of background around the grid
BACKGROUND = "#f0f0f0"


def _colour(hue: float, saturation: float, lightness: float) -> str:
    red, green, blue = colorsys.hls_to_rgb(hue, lightness, saturation)
    return "#{:02x}{:02x}{:02x}".format(round(red * 255), round(green * 255), round(blue * 255))


def identicon_cells(seed: str) -> set[tuple[int, int]]:
    """The filled (column, row) cells of the grid for `seed`, symmetric about the middle column."""
    digest = hashlib.sha256(seed.encode()).digest()
    half = (GRID + 1) // 2
    bits = int.from_bytes(digest[:4], "big")
    cells = set()
    for row in range(GRID):
        for column in range(half):
            if bits >> (row * half + column) & 1:
                cells.update({(column, row), (GRID - 1 - column, row)})
    return cells or {(GRID // 2, row) for row in range(GRID)}  # never an empty picture


def identicon_colour(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    hue = int.from_bytes(digest[4:6], "big") / 65536
    saturation = 0.45 + digest[6] / 255 * 0.2   # 45–65 %: lively, never garish
    lightness = 0.42 + digest[7] / 255 * 0.1    # 42–52 %: dark enough on the light background
    return _colour(hue, saturation, lightness)


def identicon_svg(seed: str, size: int = 128) -> str:
    """The SVG picture for `seed` (intrinsically `size` pixels square; it scales to any size)."""
    side = GRID + 2 * MARGIN
    # One path for all cells: neighbouring cells join without hairline seams when scaled.
    path = "".join(f"M{column + MARGIN} {row + MARGIN}h1v1h-1z"
                   for column, row in sorted(identicon_cells(seed)))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{int(size)}" height="{int(size)}" '
            f'viewBox="0 0 {side} {side}">'
            f'<rect width="{side}" height="{side}" fill="{BACKGROUND}"/>'
            f'<path fill="{identicon_colour(seed)}" d="{path}"/>'
            "</svg>\n")


def identicon_png(seed: str, size: int = 140) -> bytes:
    """The same picture as a PNG (`size` rounded down to whole pixels per cell), for servers
    elsewhere: Mastodon shows PNG and JPEG pictures, not SVG."""
    side = GRID + 2 * MARGIN
    scale = max(1, size // side)
    cells, ink = identicon_cells(seed), identicon_colour(seed)
    colours = {False: bytes.fromhex(BACKGROUND[1:]), True: bytes.fromhex(ink[1:])}
    rows = []
    for row in range(side):
        line = b"".join(colours[(column - MARGIN, row - MARGIN) in cells] * scale for column in range(side))
        rows += [b"\x00" + line] * scale  # filter type 0 on every scanline
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    pixels = side * scale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", pixels, pixels, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))
