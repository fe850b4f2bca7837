//! Decode-stage behaviour on hostile, odd and ordinary inputs, all generated
//! in code: every case ends in a sensible image or an error of the right kind,
//! never a panic.

use std::io::Cursor;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use frametrace::decode::{DecodeError, DecodeMode, Decoded, decode_bytes, decode_file};
use image::codecs::gif::GifEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::webp::WebPEncoder;
use image::{
    DynamicImage, Frame, ImageBuffer, ImageEncoder, Luma, LumaA, Rgb, RgbImage, Rgba, RgbaImage,
};
use tempfile::TempDir;

const FAST: DecodeMode = DecodeMode::Fast { min_side: 128 };
const MODES: [DecodeMode; 2] = [DecodeMode::Exact, FAST];

// ---------- small encoders ----------

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// zlib stream of stored (uncompressed) deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = data.chunks(65_535).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        out.push(u8::from(i + 1 == chunks.len()));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

/// A PNG from raw parts; `rows` are unfiltered scanlines (filter byte added here).
fn png(
    width: u32,
    height: u32,
    depth: u8,
    colour: u8,
    extra: &[(&[u8; 4], Vec<u8>)],
    rows: &[Vec<u8>],
) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[depth, colour, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    for (kind, data) in extra {
        png_chunk(&mut out, kind, data);
    }
    let raw: Vec<u8> = rows
        .iter()
        .flat_map(|r| std::iter::once(0).chain(r.iter().copied()))
        .collect();
    png_chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    png_chunk(&mut out, b"IEND", &[]);
    out
}

fn encode(image: &DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).expect("encode test image");
    out.into_inner()
}

fn jpeg(image: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(image)
        .expect("encode jpeg");
    out
}

/// Deterministic busy test card: coloured blocks, gradients and fine noise.
fn busy(width: u32, height: u32) -> RgbImage {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let palette: Vec<[u8; 3]> = (0..64)
        .map(|_| next().to_le_bytes()[..3].try_into().unwrap())
        .collect();
    RgbImage::from_fn(width, height, |x, y| {
        let block = palette[((x / 37 + y / 23 * 7) % 64) as usize];
        let noise = (next() % 24) as u8;
        Rgb(block.map(|c| c.saturating_add(noise).saturating_sub(((x + y) % 16) as u8)))
    })
}

fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write test file");
    path
}

/// The error of a decode that must fail (no pixel dump when it succeeds).
fn refused(result: Result<Decoded, DecodeError>) -> DecodeError {
    match result {
        Ok(d) => panic!("expected an error, got a {}x{} image", d.width, d.height),
        Err(e) => e,
    }
}

fn rgb_at(d: &Decoded, x: u32, y: u32) -> [u8; 3] {
    d.image.to_rgb8().get_pixel(x, y).0
}

fn close(a: [u8; 3], b: [u8; 3], tol: u8) -> bool {
    a.iter().zip(b).all(|(&p, q)| p.abs_diff(q) <= tol)
}

// ---------- refusals ----------

#[test]
fn truncated_jpeg_is_corrupt() {
    // Pillow 13 refuses a cut JPEG ("image file is truncated"), even one that
    // lacks only its final EOI marker; zune-jpeg alone would fill the rest grey.
    let full = jpeg(&busy(64, 64), 90);
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "cut.jpg", &full[..full.len() / 2]);
    for mode in MODES {
        let err = refused(decode_file(&path, mode));
        assert!(
            matches!(err, DecodeError::Corrupt { format: "JPEG", .. }),
            "{mode:?}: {err}"
        );
        assert!(
            err.to_string().starts_with("truncated or corrupt JPEG: "),
            "{err}"
        );
    }
}

#[test]
fn jpeg_without_eoi_refused_but_trailing_bytes_accepted() {
    let full = jpeg(&busy(32, 32), 90);
    for mode in MODES {
        let err = refused(decode_bytes(&full[..full.len() - 2], mode));
        assert!(
            matches!(err, DecodeError::Corrupt { format: "JPEG", .. }),
            "{err}"
        );
        let padded = [&full[..], b"trailing junk"].concat();
        let d = decode_bytes(&padded, mode).expect("junk after EOI is harmless");
        assert_eq!((d.width, d.height), (32, 32));
    }
}

#[test]
fn truncated_png_is_corrupt() {
    let full = encode(
        &DynamicImage::ImageRgb8(busy(64, 64)),
        image::ImageFormat::Png,
    );
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "cut.png", &full[..full.len() / 2]);
    for mode in MODES {
        let err = refused(decode_file(&path, mode));
        assert!(
            matches!(err, DecodeError::Corrupt { format: "PNG", .. }),
            "{mode:?}: {err}"
        );
    }
}

#[test]
fn empty_file_is_refused() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "empty.png", &[]);
    for mode in MODES {
        assert!(matches!(decode_file(&path, mode), Err(DecodeError::Empty)));
    }
}

#[test]
fn text_named_jpg_is_not_an_image() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "notes.jpg", b"just some notes, not a picture\n");
    for mode in MODES {
        let err = refused(decode_file(&path, mode));
        assert!(matches!(err, DecodeError::UnrecognisedFormat), "{err}");
        assert_eq!(err.to_string(), "not an image (unrecognised format)");
    }
}

#[test]
fn missing_file_is_io_error() {
    let dir = TempDir::new().unwrap();
    let err = refused(decode_file(&dir.path().join("nope.png"), FAST));
    assert!(matches!(err, DecodeError::Io(_)), "{err}");
}

#[test]
fn png_bomb_header_is_refused_fast() {
    // Valid signature, IHDR (with correct CRC) claiming 100000x100000 RGBA8,
    // and a tiny IDAT: 40 GB if anyone believed it. Pillow 13 refuses the same
    // bytes with DecompressionBombError (limit 178956970 pixels).
    let bomb = png(100_000, 100_000, 8, 6, &[], &[vec![0; 4]]);
    for mode in MODES {
        let start = Instant::now();
        let err = refused(decode_bytes(&bomb, mode));
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "took {:?}",
            start.elapsed()
        );
        assert!(
            matches!(
                err,
                DecodeError::TooLarge {
                    width: 100_000,
                    height: 100_000
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .starts_with("image too large: 100000x100000 exceeds"),
            "{err}"
        );
    }
}

#[test]
fn jpeg_bomb_header_is_refused() {
    // A real JPEG whose SOF0 dimensions are patched to 65000x65000 (4.2 Gpx).
    let mut bytes = jpeg(&busy(16, 16), 90);
    let sof = bytes
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline SOF");
    bytes[sof + 5..sof + 9].copy_from_slice(&[0xFD, 0xE8, 0xFD, 0xE8]);
    for mode in MODES {
        let err = refused(decode_bytes(&bytes, mode));
        assert!(
            matches!(
                err,
                DecodeError::TooLarge {
                    width: 65_000,
                    height: 65_000
                }
            ),
            "{err}"
        );
    }
}

#[test]
fn mutated_inputs_never_panic() {
    let sources = [
        jpeg(&busy(48, 40), 80),
        encode(
            &DynamicImage::ImageRgb8(busy(24, 20)),
            image::ImageFormat::Png,
        ),
        encode(
            &DynamicImage::ImageRgba8(DynamicImage::ImageRgb8(busy(20, 12)).to_rgba8()),
            image::ImageFormat::Gif,
        ),
    ];
    let mut seed = 7u64;
    for source in &sources {
        for _ in 0..150 {
            let mut bytes = source.clone();
            for _ in 0..4 {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let pos = (seed >> 33) as usize % bytes.len();
                bytes[pos] = (seed >> 16) as u8;
            }
            for mode in MODES {
                // Either outcome is fine; reaching the next line means no panic escaped.
                if let Ok(d) = decode_bytes(&bytes, mode) {
                    assert!(d.width > 0 && d.height > 0);
                }
            }
        }
    }
}

// ---------- sensible images ----------

#[test]
fn one_by_one_png_and_jpeg() {
    let px = RgbImage::from_pixel(1, 1, Rgb([10, 200, 30]));
    let png_bytes = encode(
        &DynamicImage::ImageRgb8(px.clone()),
        image::ImageFormat::Png,
    );
    let jpg_bytes = jpeg(&px, 100);
    for mode in MODES {
        let d = decode_bytes(&png_bytes, mode).unwrap();
        assert_eq!((d.width, d.height, rgb_at(&d, 0, 0)), (1, 1, [10, 200, 30]));
        let d = decode_bytes(&jpg_bytes, mode).unwrap();
        assert_eq!((d.width, d.height), (1, 1));
        assert_eq!((d.image.width(), d.image.height()), (1, 1));
        assert!(
            close(rgb_at(&d, 0, 0), [10, 200, 30], 6),
            "{:?}",
            rgb_at(&d, 0, 0)
        );
    }
}

#[test]
fn sixteen_bit_grey_png() {
    let img = ImageBuffer::from_fn(3, 2, |x, _| Luma([[0u16, 0x8000, 0xFFFF][x as usize]]));
    let bytes = encode(&DynamicImage::ImageLuma16(img), image::ImageFormat::Png);
    let exact = decode_bytes(&bytes, DecodeMode::Exact).unwrap();
    let kept = exact.image.as_luma16().expect("exact keeps 16-bit grey");
    assert_eq!(kept.get_pixel(1, 0).0, [0x8000]);
    let fast = decode_bytes(&bytes, FAST).unwrap();
    let grey = fast.image.as_luma8().expect("fast gives Luma8");
    assert_eq!([0, 1, 2].map(|x| grey.get_pixel(x, 1).0[0]), [0, 128, 255]);
}

#[test]
fn sixteen_bit_rgb_png() {
    let img = ImageBuffer::from_pixel(2, 2, Rgb([0xFFFFu16, 0x4000, 0]));
    let bytes = encode(&DynamicImage::ImageRgb16(img), image::ImageFormat::Png);
    let exact = decode_bytes(&bytes, DecodeMode::Exact).unwrap();
    assert_eq!(
        exact.image.as_rgb16().map(|i| i.get_pixel(1, 1).0),
        Some([0xFFFF, 0x4000, 0])
    );
    let fast = decode_bytes(&bytes, FAST).unwrap();
    assert_eq!(
        fast.image.as_rgb8().map(|i| i.get_pixel(1, 1).0),
        Some([255, 64, 0])
    );
}

/// Flat CMYK (200, 50, 100, 30) written by jpeg-encoder (Adobe APP14,
/// inverted storage, like Photoshop).
fn cmyk_jpeg() -> Vec<u8> {
    let (w, h) = (32u16, 24u16);
    let data: Vec<u8> = (0..usize::from(w) * usize::from(h))
        .flat_map(|_| [200, 50, 100, 30])
        .collect();
    let mut bytes = Vec::new();
    jpeg_encoder::Encoder::new(&mut bytes, 100)
        .encode(&data, w, h, jpeg_encoder::ColorType::Cmyk)
        .unwrap();
    bytes
}

#[test]
fn cmyk_jpeg_matches_pillow() {
    // Expected RGB from the oracle:
    //   /tmp/oracle/bin/python -c "from PIL import Image; im=Image.open('cmyk.jpg');
    //   print(im.mode, im.getpixel((8,8)), im.convert('RGB').getpixel((8,8)))"
    //   -> CMYK (200, 50, 100, 30) (49, 181, 137)   [Pillow 13.0.0, these bytes]
    // Exact since the switch to libjpeg-turbo (Pillow's decoder); the old
    // decoders were allowed 2-3 levels.
    let bytes = cmyk_jpeg();
    let fast = decode_bytes(&bytes, DecodeMode::Fast { min_side: 1 }).unwrap();
    assert_eq!((fast.width, fast.height, fast.image.width()), (32, 24, 4));
    assert_eq!(rgb_at(&fast, 2, 2), [49, 181, 137]);
    let exact = decode_bytes(&bytes, DecodeMode::Exact).unwrap();
    assert_eq!((exact.width, exact.height), (32, 24));
    assert_eq!(rgb_at(&exact, 8, 8), [49, 181, 137]);
}

/// SHA-256 of the decoded samples, row-major, as Pillow's `tobytes()`.
fn sha256_hex(d: &Decoded) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(d.image.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn jpeg_pixels_identical_to_pillow() {
    // The bytes are written to files and read by the oracle (Pillow 13.0.0):
    //   im = Image.open(f); c = im.convert("RGB") if im.mode == "CMYK" else im
    //   hashlib.sha256(c.tobytes()).hexdigest()                     -> full
    //   im = Image.open(f); im.draft(im.mode, (w // 4, h // 4))     (1/4 IDCT scale)
    //   then the same convert and sha256                            -> quarter
    // busy(120, 90) q90 is RGB (30x23 at 1/4), the grey ramp L (10x10), CMYK 8x6.
    let grey = encode(
        &DynamicImage::ImageLuma8(ImageBuffer::from_fn(40, 40, |x, _| Luma([(x * 6) as u8]))),
        image::ImageFormat::Jpeg,
    );
    let cases = [
        (
            jpeg(&busy(120, 90), 90),
            20,
            "40be39853a34068a397b57ad9046359aa59c4c52d040026d0569d7d1cf737f50",
            "341ac0a5e8440628cf5b16b5cee29704a766a9ea247ae11935236469f05f7698",
        ),
        (
            grey,
            10,
            "446941379ce6da7a7fba9131bdbc33799b1c1bd6360344ff7f28792eaa0dda2f",
            "15036cac7d3ea86d4a3e70f0e1834384418e73707f1be009aa5eb6f835f8b9f1",
        ),
        (
            cmyk_jpeg(),
            6,
            "bedf71aa75b3a8466fa5827eaf1b4b86c6be7179e7a460fd7c206b39effcc156",
            "31876f6dff043d99ad84cdd1f4d2b6d1d0caf68a5c7605724c20edefb13fddc7",
        ),
    ];
    for (bytes, min_side, full, quarter) in cases {
        let exact = decode_bytes(&bytes, DecodeMode::Exact).unwrap();
        assert_eq!(sha256_hex(&exact), full, "exact {:?}", exact.image.color());
        let fast = decode_bytes(&bytes, DecodeMode::Fast { min_side }).unwrap();
        assert_eq!(
            fast.image.width() * 4,
            exact.width.next_multiple_of(4),
            "1/4 scale"
        );
        assert_eq!(sha256_hex(&fast), quarter, "fast {:?}", fast.image.color());
    }
}

#[test]
fn libjpeg_fatal_errors_are_decode_errors() {
    // libjpeg reports these by unwinding out of its error callback; without
    // mozjpeg-sys's `unwinding` feature the process would abort here.
    let good = jpeg(&busy(16, 16), 90);
    let sof = good
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline SOF");
    let mut twelve_bit = good.clone();
    twelve_bit[sof + 4] = 12;
    let mut no_components = good.clone();
    no_components[sof + 9] = 0;
    for mode in MODES {
        let err = refused(decode_bytes(&twelve_bit, mode));
        assert!(matches!(err, DecodeError::Unsupported(_)), "{err}");
        let err = refused(decode_bytes(&no_components, mode));
        assert!(
            matches!(err, DecodeError::Corrupt { format: "JPEG", .. }),
            "{err}"
        );
        eprintln!("{err}");
    }
}

#[test]
fn palette_png_with_trns() {
    // Palette: red (opaque), blue (fully transparent), green (half transparent).
    // Pillow 13 reads these exact bytes as mode P, transparency b"\xff\x00\x80",
    // RGBA (255,0,0,255) (0,0,255,0) (0,255,0,128).
    let plte = vec![255, 0, 0, 0, 0, 255, 0, 255, 0];
    let trns = vec![255, 0, 128];
    let bytes = png(
        3,
        1,
        8,
        3,
        &[(b"PLTE", plte), (b"tRNS", trns)],
        &[vec![0, 1, 2]],
    );
    let exact = decode_bytes(&bytes, DecodeMode::Exact).unwrap();
    let rgba = exact
        .image
        .as_rgba8()
        .expect("palette with tRNS decodes as RGBA8");
    assert_eq!(rgba.get_pixel(1, 0).0, [0, 0, 255, 0]);
    let fast = decode_bytes(&bytes, FAST).unwrap();
    let rgb = fast.image.as_rgb8().expect("fast composites to Rgb8");
    assert_eq!(rgb.get_pixel(0, 0).0, [255, 0, 0]);
    assert_eq!(rgb.get_pixel(1, 0).0, [255, 255, 255]);
    assert!(
        close(rgb.get_pixel(2, 0).0, [127, 255, 127], 1),
        "{:?}",
        rgb.get_pixel(2, 0)
    );
}

#[test]
fn grey_alpha_png() {
    let img = ImageBuffer::from_fn(2, 1, |x, _| LumaA([0u8, if x == 0 { 255 } else { 0 }]));
    let bytes = encode(&DynamicImage::ImageLumaA8(img), image::ImageFormat::Png);
    let exact = decode_bytes(&bytes, DecodeMode::Exact).unwrap();
    assert_eq!(
        exact.image.as_luma_alpha8().map(|i| i.get_pixel(1, 0).0),
        Some([0, 0])
    );
    let fast = decode_bytes(&bytes, FAST).unwrap();
    let grey = fast.image.as_luma8().expect("fast gives Luma8");
    assert_eq!(
        (grey.get_pixel(0, 0).0, grey.get_pixel(1, 0).0),
        ([0], [255])
    );
}

#[test]
fn animated_gif_first_frame() {
    let frame = |c: [u8; 4]| Frame::new(RgbaImage::from_pixel(8, 6, Rgba(c)));
    let mut bytes = Vec::new();
    {
        let mut enc = GifEncoder::new(&mut bytes);
        enc.encode_frames([frame([255, 0, 0, 255]), frame([0, 0, 255, 255])])
            .unwrap();
    }
    for mode in MODES {
        let d = decode_bytes(&bytes, mode).unwrap();
        assert_eq!((d.width, d.height), (8, 6));
        assert_eq!(rgb_at(&d, 4, 3), [255, 0, 0], "{mode:?}");
    }
}

#[test]
fn lossless_webp() {
    let img = RgbaImage::from_fn(10, 7, |x, y| Rgba([x as u8 * 20, y as u8 * 30, 77, 255]));
    let mut bytes = Vec::new();
    WebPEncoder::new_lossless(&mut bytes)
        .write_image(img.as_raw(), 10, 7, image::ExtendedColorType::Rgba8)
        .unwrap();
    for mode in MODES {
        let d = decode_bytes(&bytes, mode).unwrap();
        assert_eq!((d.width, d.height), (10, 7));
        assert_eq!(rgb_at(&d, 9, 6), [180, 180, 77], "{mode:?}");
    }
}

/// APP1 Exif segment (big-endian TIFF) holding only Orientation = `value`.
fn exif_orientation(value: u16) -> Vec<u8> {
    let mut tiff = b"MM\0\x2a".to_vec();
    tiff.extend_from_slice(&8u32.to_be_bytes());
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]);
    tiff.extend_from_slice(&value.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut seg = vec![0xFF, 0xE1];
    seg.extend_from_slice(&((2 + 6 + tiff.len()) as u16).to_be_bytes());
    seg.extend_from_slice(b"Exif\0\0");
    seg.extend_from_slice(&tiff);
    seg
}

#[test]
fn exif_rotated_jpeg() {
    // 64x32: top half black, bottom half white; Orientation 6 = rotate 90 CW,
    // so displayed it is 32x64 with the black half on the right. Checked with
    // Pillow 13 on these bytes: getexif()[0x112] == 6, ImageOps.exif_transpose
    // gives size (32, 64), pixel (4, 32) white and (24, 32) black.
    let img = RgbImage::from_fn(
        64,
        32,
        |_, y| if y < 16 { Rgb([0; 3]) } else { Rgb([255; 3]) },
    );
    let plain = jpeg(&img, 95);
    let bytes = [&plain[..2], &exif_orientation(6), &plain[2..]].concat();

    let fast = decode_bytes(&bytes, DecodeMode::Fast { min_side: 8 }).unwrap();
    assert_eq!((fast.width, fast.height), (32, 64));
    assert_eq!(
        (fast.image.width(), fast.image.height()),
        (8, 16),
        "1/4 scale, rotated"
    );
    assert!(rgb_at(&fast, 1, 8)[0] > 200 && rgb_at(&fast, 6, 8)[0] < 50);

    let exact = decode_bytes(&bytes, DecodeMode::Exact).unwrap();
    assert_eq!((exact.width, exact.height), (64, 32));
    assert!(rgb_at(&exact, 32, 4)[0] < 50 && rgb_at(&exact, 32, 28)[0] > 200);
}

#[test]
fn fast_jpeg_1080p_is_eighth_scale_and_close_to_exact() {
    let bytes = jpeg(&busy(1920, 1080), 90);
    let fast = decode_bytes(&bytes, FAST).unwrap();
    assert_eq!((fast.width, fast.height), (1920, 1080));
    assert_eq!((fast.image.width(), fast.image.height()), (240, 135));
    let small = fast.image.as_rgb8().expect("Rgb8");

    let exact = decode_bytes(&bytes, DecodeMode::Exact)
        .unwrap()
        .image
        .to_rgb8();
    let mut total = 0u64;
    for (x, y, p) in small.enumerate_pixels() {
        for c in 0..3 {
            let mut sum = 0u32;
            for dy in 0..8 {
                for dx in 0..8 {
                    sum += u32::from(exact.get_pixel(x * 8 + dx, y * 8 + dy).0[c]);
                }
            }
            total += u64::from(((sum + 32) / 64).abs_diff(u32::from(p.0[c])));
        }
    }
    let mean = total as f64 / (240.0 * 135.0 * 3.0);
    assert!(mean < 2.0, "mean abs diff {mean:.3}");
}

#[test]
fn fast_scale_never_below_min_side() {
    let bytes = jpeg(&busy(300, 200), 85);
    for (min_side, expect) in [
        (1, (38, 25)),
        (25, (38, 25)),
        (26, (75, 50)),
        (60, (150, 100)),
        (101, (300, 200)),
        (5000, (300, 200)),
    ] {
        let d = decode_bytes(&bytes, DecodeMode::Fast { min_side }).unwrap();
        assert_eq!(
            (d.image.width(), d.image.height()),
            expect,
            "min_side {min_side}"
        );
        assert_eq!((d.width, d.height), (300, 200));
    }
}

#[test]
fn grey_jpeg_stays_grey() {
    let img = ImageBuffer::from_fn(40, 40, |x, _| Luma([(x * 6) as u8]));
    let bytes = encode(&DynamicImage::ImageLuma8(img), image::ImageFormat::Jpeg);
    let fast = decode_bytes(&bytes, DecodeMode::Fast { min_side: 10 }).unwrap();
    assert_eq!(
        fast.image.as_luma8().map(|i| i.dimensions()),
        Some((10, 10))
    );
    let exact = decode_bytes(&bytes, DecodeMode::Exact).unwrap();
    assert!(exact.image.as_luma8().is_some());
}
