"""Spaces between numbers in a line, on boxes laid out by hand."""

from engine.reading.ordering import Box, space_after


def row_of(sizes: list[tuple[float, float]], gaps: list[float], top: float = 100.0):
    """Lay boxes (width, height) left to right, bottoms aligned, with the given gaps."""
    boxes = []
    x = 20.0
    for index, (width, height) in enumerate(sizes):
        boxes.append(Box(x, top - height, width, height))
        if index < len(gaps):
            x += width + gaps[index]
    return boxes


def spaces_of(boxes: list[Box]) -> list[bool]:
    return space_after(list(range(len(boxes))), boxes)


def test_spaces_mixed_heights_no_space():
    # Small 0s (16 px) between 7s and 9s up to 65 px: the widest gap is 0.65 of a
    # tall digit, an ordinary gap for this writer.
    sizes = [(17, 20), (22, 33), (18, 16), (17, 32), (21, 65), (19, 32), (18, 42),
             (13, 35), (21, 55), (16, 33), (8, 49)]
    gaps = [15, 11, 30, 6, 7, 10, 22, 11, 10, 9]
    assert spaces_of(row_of(sizes, gaps)) == [False] * len(gaps)


def test_spaces_mixed_heights_real_space():
    sizes = [(17, 20), (22, 33), (18, 16), (17, 32), (21, 65), (19, 32), (18, 42)]
    gaps = [12, 10, 80, 8, 9, 11]
    assert spaces_of(row_of(sizes, gaps)) == [False, False, True, False, False, False]


def test_spaces_overlapping_boxes():
    # A 5 inside the box of the next 7 gives a negative gap; the space still shows.
    sizes = [(20, 40), (21, 34), (36, 84), (19, 54), (17, 37), (18, 48)]
    gaps = [10, -8, 12, 70, 9]
    assert spaces_of(row_of(sizes, gaps)) == [False, False, False, True, False]


def test_spaces_wide_writing_no_space():
    # Digits spaced about twice their height apart, evenly, are one number.
    sizes = [(20, 34)] * 8
    gaps = [64, 67, 57, 67, 47, 53, 55, 44]
    assert spaces_of(row_of(sizes, gaps[:7])) == [False] * 7


def test_spaces_two_numbers_of_three():
    # One wide gap among two must not lift the usual gap to its own size.
    sizes = [(30, 60)] * 3
    assert spaces_of(row_of(sizes, [12, 110])) == [False, True]


def test_spaces_two_digits_one_number():
    assert spaces_of(row_of([(30, 60), (30, 60)], [150])) == [False]



def test_spaces_touching_pairs_wide_writing():
    # Two touching pairs (gaps 0 and below) in a line written with wide, even gaps:
    # one number, because the touching pairs show nothing about the writer's spacing.
    sizes = [(87, 140), (103, 138), (84, 139), (76, 140), (140, 113)]
    gaps = [179, -14, 148, 0]
    assert spaces_of(row_of(sizes, gaps)) == [False, False, False, False]


def test_spaces_all_touching():
    sizes = [(40, 60), (42, 60), (38, 60)]
    assert spaces_of(row_of(sizes, [0, -3])) == [False, False]
