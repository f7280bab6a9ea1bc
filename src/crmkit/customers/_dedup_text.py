"""Cheap match keys for dedup: folded names, companies, emails, phones and addresses.

Every function here is pure and fast (a few microseconds a value), because dedup folds every
record once and a million records must stay affordable. A phone key is a canonical E.164 form
computed from digits and the region's calling code (``phonenumbers`` is consulted once per
region, not once per row); full validation stays in :func:`crmkit.customers.normalize_phone`.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import phonenumbers

__all__ = [
    "address_key",
    "company_key",
    "email_key",
    "fold",
    "initials",
    "name_key",
    "phone_key",
]

# Traditional characters common in Taiwanese, Hong Kong and mainland company names, people's
# names and addresses, folded to their simplified form so 台灣 and 台湾 (and 臺灣) read alike.
_TRADITIONAL = (
    "臺台灣湾國国際际電电腦脑資资訊讯業业貿贸東东華华興兴發发實实開开銀银車车區区鄉乡鎮镇號号樓楼"
    "門门陳陈黃黄張张劉刘楊杨吳吴趙赵葉叶許许鄭郑謝谢蘇苏盧卢簡简會会醫医藥药廠厂產产學学體体"
    "製制積积務务網网絡络龍龙鳳凤豐丰廣广場场園园書书達达義义陽阳濱滨億亿萬万縣县樂乐聯联運运"
    "動动輪轮機机氣气麗丽寶宝藝艺術术設设計计營营連连鎖锁軟软傳传飲饮飯饭館馆貨货輸输紡纺織织"
    "綠绿進进遠远長长權权專专質质檢检測测證证險险財财團团舊旧鐵铁鋼钢鋁铝膠胶紙纸線线雲云風风"
    "後后來来為为與与責责貳贰參参漢汉蔣蒋鄧邓蕭萧羅罗賴赖鍾钟韓韩馮冯錢钱孫孙曉晓偉伟億亿劍剑"
    "閩闽粵粤滬沪廈厦嶺岭島岛鄰邻裡里莊庄呂吕傑杰輝辉鴻鸿創创"
)
_T2S = str.maketrans(dict(zip(_TRADITIONAL[0::2], _TRADITIONAL[1::2], strict=True)))

_NON_WORD = re.compile(r"[\W_]+")
_NON_DIGIT = re.compile(r"\D+")
_SPACE = re.compile(r"\s+")

# Legal-form words, matched after folding (simplified Chinese, lower case, no punctuation).
_LATIN_FORMS = frozenset(
    re.findall(
        r"\w+",
        "ltd limited inc incorporated co corp corporation company llc llp plc lp gmbh "
        "ag sa sarl srl spa bv nv oy ab pte pty kk",
    )
)
_CJK_FORMS = ("股份有限公司", "有限责任公司", "股份公司", "有限公司", "株式会社", "公司")

# Mail domains that ignore dots and "+tags" in the local part.
_DOTLESS = frozenset({"gmail.com", "googlemail.com"})


def fold(text: str) -> str:
    r"""NFKC (full-width to half-width), case-folded, traditional to simplified, spaces collapsed.

    >>> fold("  \uff21\uff2d\uff39   陳 臺灣 ")
    'amy 陈 台湾'
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    if not folded.isascii():
        folded = folded.translate(_T2S)
    return _SPACE.sub(" ", folded).strip()


def name_key(text: str | None) -> str:
    """A person's name folded, punctuation dropped, words sorted (so "Chen, Amy" = "amy chen").

    >>> name_key("Chen, Amy"), name_key("陳小明")
    ('amy chen', '陈小明')
    """
    if not text:
        return ""
    return " ".join(sorted(_NON_WORD.sub(" ", fold(text)).split()))


def initials(key: str) -> str:
    """The first letter of each word of a folded key, or the first character of a CJK name.

    >>> initials("amy chen"), initials("陈小明")
    ('ac', '陈')
    """
    return "".join(word[0] for word in key.split())


def company_key(text: str | None) -> str:
    """A company name folded with its legal form dropped ("Co., Ltd.", "有限公司", ...).

    >>> company_key("Formosa Tea Co., Ltd."), company_key("台灣福爾摩沙茶葉有限公司")
    ('formosa tea', '台湾福爾摩沙茶叶')
    """
    if not text:
        return ""
    words = _NON_WORD.sub(" ", fold(text.replace("&", " and "))).split()
    while len(words) > 1 and words[-1] in _LATIN_FORMS:
        words.pop()
    if words:
        last = words[-1]
        for form in _CJK_FORMS:
            if last.endswith(form) and len(last) > len(form):
                words[-1] = last[: -len(form)]
                break
            if last == form and len(words) > 1:
                words.pop()
                break
    return " ".join(words)


def email_key(text: str | None) -> str:
    """An email folded; for mail domains that ignore them, dots and ``+tags`` are dropped.

    >>> email_key(" Amy.Chen+crm@GMail.com "), email_key("Amy.Chen@Acme.example")
    ('amychen@gmail.com', 'amy.chen@acme.example')
    """
    if not text:
        return ""
    key = unicodedata.normalize("NFKC", text).strip().casefold()
    local, at, domain = key.rpartition("@")
    if at and domain in _DOTLESS:
        local = local.split("+", 1)[0].replace(".", "")
        return f"{local}@{domain}"
    return key


@functools.lru_cache(maxsize=512)
def _calling_code(region: str) -> str:
    code = phonenumbers.country_code_for_region(region.upper())
    return str(code) if code else ""


def phone_key(text: str | None, region: str | None = None) -> str:
    r"""A canonical E.164 form from the digits: ``+`` kept, ``00`` read as ``+``, else the region.

    A local number (``0912-345-678`` in ``TW``) loses its trunk ``0`` and gains the region's
    calling code. A local number with no region keeps its digits (it still equals itself).

    >>> phone_key("0912-345-678", "TW"), phone_key("+886 912 345 678")
    ('+886912345678', '+886912345678')
    >>> phone_key("\uff10\uff19\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18", "tw")
    '+886912345678'
    """
    if not text:
        return ""
    raw = unicodedata.normalize("NFKC", text).strip()
    digits = _NON_DIGIT.sub("", raw)
    if not digits:
        return ""
    if raw.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    code = _calling_code(region) if region else ""
    if not code:
        return digits
    return "+" + code + (digits[1:] if digits.startswith("0") else digits)


def address_key(text: str | None) -> str:
    r"""An address folded with punctuation dropped (full-width digits and 臺/台 read alike).

    >>> address_key("臺北市信義區松仁路\uff11\uff10\uff10號5樓")
    '台北市信义区松仁路100号5楼'
    >>> address_key("12 Queen's Road, Central")
    '12 queen s road central'
    """
    if not text:
        return ""
    return " ".join(_NON_WORD.sub(" ", fold(text)).split())
