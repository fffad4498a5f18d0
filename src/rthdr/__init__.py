"""rthdr: real-time handwritten digit recognition.

    from rthdr import OneDigitCheck, read_digit, read_number
    read_digit("digit.png").digit                                 # 7
    read_number("postcode.jpg", one_digit=OneDigitCheck()).text   # "90210", as the service reads it

A path, the file's bytes, or a pixel array (0 = background, like MNIST) is accepted; a
`Classifier(path)` reads with another model. Bad input raises InputError with a `code` and a
message that says what to send instead.
"""

from importlib.metadata import PackageNotFoundError, version

from rthdr.core.errors import InputError, ModelError
from rthdr.core.inference import Classifier, OneDigitCheck, Prediction
from rthdr.core.pipeline import NumberReading, read_digit, read_number

try:
    __version__ = version("rthdr")
except PackageNotFoundError:  # a source tree on sys.path that pip never installed
    __version__ = "0+unknown"

__all__ = [
    "Classifier",
    "InputError",
    "ModelError",
    "NumberReading",
    "OneDigitCheck",
    "Prediction",
    "__version__",
    "read_digit",
    "read_number",
]
