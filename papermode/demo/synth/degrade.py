"""Phone-photo and scanner degradations of a filled page, with what was applied.

Each operation is a pure, seeded function `(image, rng, **params) -> image` on RGB uint8
arrays. `phone_photo`, `bad_photo` and `scan_page` compose them and return a `Capture`
that says what was applied and what the reader is expected to do with the result:
"read", "retake:<reason>" (reasons: corner_cut, blur, dark, glare) or "free".

Speed: the page is warped once, straight into the output frame (8-12 MP); lighting,
shadow, vignette and colour cast are one low-resolution gain map resized once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

PHONE_FRAMES = ((4032, 3024), (4000, 3000), (3264, 2448), (4080, 3060), (3648, 2736))
RETAKE_REASONS = ("corner_cut", "blur", "dark", "glare")
MARKER_REACH_MM = 24.0  # page edge to the far side of a corner marker, plus its quiet zone


@dataclass(frozen=True)
class Capture:
    """What was done to make one captured image, and the outcome the reader should reach."""

    kind: str  # "phone" | "scan" | "bad" | "free"
    expected: str  # "read" | "retake:<reason>" | "free"
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "expected": self.expected, "params": dict(self.params)}


# --------------------------------------------------------------------------- geometry


def _rotation(tilt_x: float, tilt_y: float, roll: float) -> np.ndarray:
    ax, ay, az = np.radians([tilt_x, tilt_y, roll])
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return rz @ rx @ ry


def camera_corners(
    page_size: tuple[int, int], *, tilt_deg: float, tilt_axis_deg: float, roll_deg: float
) -> np.ndarray:
    """The page's corners (TL, TR, BR, BL) as a camera sees it: tilted, rolled, projected."""
    width, height = page_size
    scale = max(width, height)
    flat = np.array([[0, 0], [width, 0], [width, height], [0, height]], float) - (
        width / 2,
        height / 2,
    )
    axis = np.radians(tilt_axis_deg)
    rotation = _rotation(tilt_deg * np.cos(axis), tilt_deg * np.sin(axis), roll_deg)
    points = np.column_stack([flat / scale, np.zeros(4)]) @ rotation.T
    distance = 1.6  # camera distance in page lengths: a phone held ~45 cm above A4
    return distance * points[:, :2] / (distance + points[:, 2:3])


def fit_in_frame(
    corners: np.ndarray,
    frame: tuple[int, int],
    rng: np.random.Generator,
    *,
    fill: float,
) -> np.ndarray:
    """Scale and move projected corners so the page fills `fill` of the frame, inside it."""
    low, high = corners.min(axis=0), corners.max(axis=0)
    scale = fill * min(frame[0] / (high - low)[0], frame[1] / (high - low)[1])
    placed = (corners - low) * scale
    room = np.array(frame, float) - placed.max(axis=0)
    return placed + room * rng.uniform(0.15, 0.85, 2)


def cut_corner(
    corners: np.ndarray, frame: tuple[int, int], side: int, overhang_px: float
) -> tuple[np.ndarray, int]:
    """Push the page across frame edge `side` (0 left, 1 right, 2 top, 3 bottom) until its
    outermost corner there is `overhang_px` beyond it; the new corners and that corner's
    index (TL, TR, BR, BL: the same numbers as the corner markers' ids)."""
    axis = 0 if side < 2 else 1
    outward = -1.0 if side in (0, 2) else 1.0
    corner = int(np.argmax(corners[:, axis] * outward))
    edge = 0.0 if outward < 0 else float(frame[axis])
    shift = np.zeros(2)
    shift[axis] = edge + outward * overhang_px - corners[corner, axis]
    return corners + shift, corner


def warp_onto(
    page: np.ndarray, corners: np.ndarray, background: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The page warped onto `background` with its corners at `corners`; and the homography."""
    height, width = page.shape[:2]
    source = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    homography = cv2.getPerspectiveTransform(source, np.asarray(corners, np.float32))
    out = background.copy()
    cv2.warpPerspective(
        page,
        homography,
        (background.shape[1], background.shape[0]),
        dst=out,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_TRANSPARENT,
    )
    return out, homography


# --------------------------------------------------------------------------- surfaces


def background(size: tuple[int, int], rng: np.random.Generator, *, kind: str) -> np.ndarray:
    """A procedural surface under the page: "wood", "table" (laminate) or "dark" (desk)."""
    width, height = size
    small = (max(width // 8, 8), max(height // 8, 8))
    ys, xs = np.mgrid[0 : small[1], 0 : small[0]].astype(np.float32)
    noise = cv2.resize(
        rng.random((small[1] // 16 + 2, small[0] // 16 + 2), dtype=np.float32),
        small,
        interpolation=cv2.INTER_CUBIC,
    )
    if kind == "wood":
        angle = rng.uniform(0, np.pi)
        along = xs * np.cos(angle) + ys * np.sin(angle)
        grain = 0.5 + 0.5 * np.sin(along * rng.uniform(0.15, 0.4) + 4 * noise)
        light, dark = np.array([190, 140, 90]), np.array([120, 75, 40])
    elif kind == "table":
        grain = 0.5 + 0.3 * noise
        light, dark = np.array([215, 215, 205]), np.array([170, 170, 165])
    else:
        grain = 0.3 + 0.4 * noise
        light, dark = np.array([80, 80, 90]), np.array([30, 30, 35])
    colour = dark + grain[..., None] * (light - dark)
    return cv2.resize(colour.astype(np.uint8), size, interpolation=cv2.INTER_LINEAR)


def lighting(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    exposure: float = 1.0,
    gradient: float = 0.25,
    shadow: float = 0.0,
    cast: float = 0.04,
) -> np.ndarray:
    """Uneven light: exposure, a light gradient, vignette, an optional shadow and a colour cast.

    All are multiplicative, so they are built as one low-resolution gain map per channel
    and applied in one pass.
    """
    height, width = image.shape[:2]
    gh, gw = 24, 32
    ys, xs = np.mgrid[0:gh, 0:gw].astype(np.float32)
    xs, ys = xs / (gw - 1) - 0.5, ys / (gh - 1) - 0.5
    direction = rng.uniform(0, 2 * np.pi)
    gain = 1.0 + gradient * (xs * np.cos(direction) + ys * np.sin(direction))
    gain *= 1.0 - 0.35 * (xs**2 + ys**2)  # vignette
    if shadow > 0:
        gain *= 1.0 - shadow * _shadow_mask((gw, gh), rng)
    channels = gain[..., None] * exposure * (1.0 + rng.uniform(-cast, cast, 3))
    full = cv2.resize(channels.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.multiply(image, full, dtype=cv2.CV_8U, scale=1.0)


def _shadow_mask(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A soft-edged shadow (the phone or the photographer's arm) entering from one side."""
    width, height = size
    mask = np.zeros((height * 4, width * 4), np.uint8)
    cx, cy = rng.uniform(0, width * 4), rng.uniform(0, height * 4)
    radius = rng.uniform(0.4, 0.8) * width * 4
    edge = int(rng.integers(4))
    offsets = [(-radius, 0), (radius, 0), (0, -radius), (0, radius)]
    centre = (int(cx + offsets[edge][0] * 0.5), int(cy + offsets[edge][1] * 0.5))
    cv2.ellipse(
        mask, centre, (int(radius), int(radius * 0.6)), rng.uniform(0, 180), 0, 360, 255, -1
    )
    blurred = cv2.GaussianBlur(mask, (0, 0), 6)
    return cv2.resize(blurred, size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def glare(
    image: np.ndarray, rng: np.random.Generator, *, centre: tuple[float, float], radius: float
) -> np.ndarray:
    """A specular highlight: the image washed out to white around `centre` (px)."""
    height, width = image.shape[:2]
    factor = 8
    small = (max(width // factor, 1), max(height // factor, 1))
    ys, xs = np.mgrid[0 : small[1], 0 : small[0]].astype(np.float32) * factor
    squash = rng.uniform(0.5, 1.0)
    distance = np.hypot(xs - centre[0], (ys - centre[1]) / squash) / radius
    strength = np.clip(1.4 - distance**2, 0, 1).astype(np.float32)
    full = cv2.resize(strength, (width, height), interpolation=cv2.INTER_LINEAR)[..., None]
    washed = image.astype(np.float32) * (1 - full) + 255.0 * full
    return washed.astype(np.uint8)


def finger(
    image: np.ndarray,
    rng: np.random.Generator,
    *,
    tip: tuple[float, float],
    base: tuple[float, float],
    width_px: float,
) -> np.ndarray:
    """A finger from `base` to its rounded tip at `tip` (px), skin coloured."""
    out = image.copy()
    tone = rng.uniform(0.55, 1.05)  # one brightness for all channels keeps it skin-coloured
    skin = tuple(int(min(255, c * tone)) for c in (225, 170, 140))
    thickness = max(int(width_px), 2)
    cv2.line(out, _pt(base), _pt(tip), skin, thickness, cv2.LINE_AA)
    cv2.circle(out, _pt(tip), thickness // 2, skin, -1, cv2.LINE_AA)
    return out


def _pt(point: tuple[float, float] | np.ndarray) -> tuple[int, int]:
    return int(round(float(point[0]))), int(round(float(point[1])))


# --------------------------------------------------------------------------- sensor


def defocus(image: np.ndarray, rng: np.random.Generator, *, sigma: float) -> np.ndarray:
    """Out-of-focus blur (Gaussian, `sigma` px)."""
    if sigma <= 0.05:
        return image
    return cv2.GaussianBlur(image, (0, 0), sigma)


def motion_blur(
    image: np.ndarray, rng: np.random.Generator, *, length: int, angle_deg: float
) -> np.ndarray:
    """A shaking hand: a line kernel `length` px long at `angle_deg`."""
    if length < 2:
        return image
    kernel = np.zeros((length, length), np.float32)
    cv2.line(kernel, (0, length // 2), (length - 1, length // 2), 1.0, 1)
    rotate = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), angle_deg, 1.0)
    turned = cv2.warpAffine(kernel, rotate, (length, length))
    weights = np.asarray(turned, np.float32) / max(float(np.sum(turned)), 1e-6)
    return cv2.filter2D(image, -1, weights)


def sensor_noise(image: np.ndarray, rng: np.random.Generator, *, sigma: float) -> np.ndarray:
    """Grain: a seeded Gaussian noise tile repeated over the image (fast, and JPEG hides it)."""
    if sigma <= 0:
        return image
    tile = rng.normal(0.0, sigma, (256, 256, 1)).astype(np.int16)
    height, width = image.shape[:2]
    reps = (height // 256 + 1, width // 256 + 1, 1)
    noise = np.tile(tile, reps)[:height, :width]
    shift = rng.integers(0, 256, 2)
    noise = np.roll(noise, tuple(int(s) for s in shift), axis=(0, 1))
    return np.clip(image.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def quarter_turn(image: np.ndarray, rng: np.random.Generator, *, turns: int) -> np.ndarray:
    """Rotate by `turns` x 90 degrees counter-clockwise."""
    return np.ascontiguousarray(np.rot90(image, turns % 4))


# --------------------------------------------------------------------------- compositions


def phone_photo(
    page: np.ndarray, rng: np.random.Generator, *, px_per_mm: float, bad: str | None = None
) -> tuple[np.ndarray, Capture]:
    """A phone photo of `page` (RGB at `px_per_mm`); `bad` makes one that must be retaken.

    Good photos keep the whole page in the frame; `bad` is one of RETAKE_REASONS.
    """
    if bad is not None and bad not in RETAKE_REASONS:
        raise ValueError(f"unknown retake reason {bad!r}")
    if page.ndim == 2:
        page = np.repeat(page[..., None], 3, axis=2)
    frame = PHONE_FRAMES[int(rng.integers(len(PHONE_FRAMES)))]
    frame = (frame[1], frame[0]) if rng.random() < 0.75 else frame  # mostly held upright
    turns = int(rng.choice(4, p=[0.7, 0.1, 0.1, 0.1]))
    geometry = {
        "tilt_deg": float(min(25.0, abs(rng.normal(0, 10)))),
        "tilt_axis_deg": float(rng.uniform(0, 360)),
        "roll_deg": float(turns * 90 + np.clip(rng.normal(0, 4), -12, 12)),
    }
    if bad == "corner_cut":
        # Held askew, so one corner leaves the picture while its neighbours stay in.
        geometry["roll_deg"] += float(rng.choice([-1, 1]) * rng.uniform(15, 30))
    fill = float(rng.uniform(0.62, 0.9))
    corners = fit_in_frame(camera_corners(page.shape[1::-1], **geometry), frame, rng, fill=fill)
    scale = _output_scale(page, corners)
    cut: dict[str, int] = {}
    if bad == "corner_cut":
        overhang = (MARKER_REACH_MM + 12.0) * px_per_mm * scale
        corners, cut["cut_corner"] = cut_corner(corners, frame, int(rng.integers(4)), overhang)
    surface = str(rng.choice(["wood", "table", "dark"]))
    image, homography = warp_onto(page, corners, background(frame, rng, kind=surface))
    params: dict[str, Any] = {"frame": list(frame), **geometry, "fill": fill, "surface": surface}
    params.update(cut)
    params.update(page_px_per_mm=px_per_mm, scale=scale)
    params["homography"] = np.round(homography, 6).tolist()
    image = _phone_effects(image, rng, page, homography, px_per_mm, bad, params)
    expected = f"retake:{bad}" if bad else "read"
    return image, Capture("bad" if bad else "phone", expected, params)


def _output_scale(page: np.ndarray, corners: np.ndarray) -> float:
    """Output pixels per page pixel (mean over the page's two diagonals)."""
    height, width = page.shape[:2]
    diagonal = np.hypot(width, height)
    return float(
        (np.linalg.norm(corners[2] - corners[0]) + np.linalg.norm(corners[3] - corners[1]))
        / (2 * diagonal)
    )


def _content_centre(page: np.ndarray) -> tuple[float, float]:
    """The median position of the page's dark pixels (print and ink), in page pixels."""
    gray = page if page.ndim == 2 else cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    ys, xs = np.nonzero(gray < 128)
    if xs.size == 0:
        return gray.shape[1] / 2, gray.shape[0] / 2
    return float(np.median(xs)), float(np.median(ys))


def _page_point(homography: np.ndarray, x_px: float, y_px: float) -> tuple[float, float]:
    mapped = cv2.perspectiveTransform(np.array([[[x_px, y_px]]], np.float32), homography)[0, 0]
    return float(mapped[0]), float(mapped[1])


def _phone_effects(
    image: np.ndarray,
    rng: np.random.Generator,
    page: np.ndarray,
    homography: np.ndarray,
    px_per_mm: float,
    bad: str | None,
    params: dict[str, Any],
) -> np.ndarray:
    """Fingers, light, glare, blur and noise, recording each in `params`."""
    height, width = page.shape[:2]
    scale = float(params["scale"])
    if bad is None and rng.random() < 0.06:
        # A finger holding the page by a side edge, between the markers: along the page's
        # normal, its tip reaches 2 mm into the paper, short of the fields (7 mm in).
        left = rng.random() < 0.5
        tip_x = -4.0 * px_per_mm if left else width + 4.0 * px_per_mm
        base_x = tip_x - 300 * px_per_mm if left else tip_x + 300 * px_per_mm
        y = height * rng.uniform(0.35, 0.65)
        tip = _page_point(homography, tip_x, y)
        base = _page_point(homography, base_x, y)
        image = finger(image, rng, tip=tip, base=base, width_px=12 * px_per_mm * scale)
        params["finger"] = [round(tip[0]), round(tip[1])]
    exposure = float(rng.uniform(0.07, 0.13)) if bad == "dark" else float(rng.uniform(0.85, 1.1))
    shadow = float(rng.uniform(0.2, 0.45)) if rng.random() < 0.3 else 0.0
    gradient = float(rng.uniform(0.0, 0.35))
    image = lighting(image, rng, exposure=exposure, gradient=gradient, shadow=shadow)
    params.update(exposure=exposure, shadow=shadow, gradient=gradient)
    if bad == "glare":
        # Over what is printed and written, not over blank paper: glare on an empty margin
        # hides nothing, and a reader that reads such a photo is right to.
        base_x, base_y = _content_centre(page)
        centre = _page_point(
            homography,
            base_x + width * rng.uniform(-0.1, 0.1),
            base_y + height * rng.uniform(-0.125, 0.125),
        )
        radius = 0.3 * width * scale
        image = glare(image, rng, centre=centre, radius=radius)
        params["glare"] = {"centre": [round(c) for c in centre], "radius": round(radius)}
    sigma = float(rng.uniform(7.0, 11.0)) if bad == "blur" else float(rng.uniform(0.0, 1.2))
    image = defocus(image, rng, sigma=sigma)
    params["defocus_sigma"] = sigma
    if bad is None and rng.random() < 0.2:
        length, angle = int(rng.integers(3, 8)), float(rng.uniform(0, 180))
        image = motion_blur(image, rng, length=length, angle_deg=angle)
        params["motion_blur"] = {"length": length, "angle_deg": angle}
    noise = float(rng.uniform(1.5, 4.5)) * (2.0 if bad == "dark" else 1.0)
    params["noise_sigma"] = noise
    return sensor_noise(image, rng, sigma=noise)


def scan_page(
    page: np.ndarray,
    rng: np.random.Generator,
    *,
    px_per_mm: float,
    dpi: int = 200,
    mode: str = "grey",
    skew_deg: float = 0.0,
) -> tuple[np.ndarray, Capture]:
    """A flatbed or sheet-fed scan: resampled to `dpi`, skewed, grey or black-and-white."""
    height, width = page.shape[:2]
    scale = dpi / 25.4 / px_per_mm
    size = (int(round(width * scale)), int(round(height * scale)))
    rotate = cv2.getRotationMatrix2D((width / 2, height / 2), skew_deg, scale)
    rotate[:, 2] += (size[0] / 2 - width / 2, size[1] / 2 - height / 2)
    grey = cv2.cvtColor(page, cv2.COLOR_RGB2GRAY) if page.ndim == 3 else page
    # The scanner lid is white: what the skew uncovers is white, not black.
    scanned = cv2.warpAffine(grey, rotate, size, flags=cv2.INTER_AREA, borderValue=250)
    scanned = sensor_noise(scanned[..., None], rng, sigma=float(rng.uniform(1.0, 3.0)))[..., 0]
    threshold = int(rng.integers(135, 165))
    if mode == "bw":
        # Scanners threshold at a fixed level: the pale drop-out boxes disappear, ink stays.
        scanned = np.where(scanned < threshold, 0, 255).astype(np.uint8)
    elif mode != "grey":
        raise ValueError(f"unknown scan mode {mode!r}")
    params = {"dpi": dpi, "mode": mode, "skew_deg": skew_deg, "page_px_per_mm": px_per_mm}
    if mode == "bw":
        params["threshold"] = threshold
    return scanned, Capture("scan", "read", params)


def random_scan(
    page: np.ndarray, rng: np.random.Generator, *, px_per_mm: float
) -> tuple[np.ndarray, Capture]:
    """A scan with settings drawn from what offices use: 150-300 dpi, mostly grey."""
    dpi = int(rng.choice([150, 200, 300], p=[0.2, 0.5, 0.3]))
    mode = "bw" if rng.random() < 0.3 else "grey"
    skew = float(rng.uniform(-3.0, 3.0))
    return scan_page(page, rng, px_per_mm=px_per_mm, dpi=dpi, mode=mode, skew_deg=skew)
