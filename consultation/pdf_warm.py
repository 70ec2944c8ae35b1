"""Imported once by the PDF fork server (``pdf._context``): WeasyPrint, fontconfig and the Chinese fonts are
loaded there, so that every child forked from it starts laying out at once."""
from . import pdf

pdf._lay_out('<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8"><style>'
             'body { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", serif } h3 { font-family: "Noto Sans CJK SC" }'
             '</style></head><body><h3>汉字</h3><p>汉字 <b>汉字</b></p></body></html>', None)
