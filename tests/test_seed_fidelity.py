"""Every number a bundled scenario takes from a policy text, checked against the text.

One row per (scenario file, dotted field, value, seed file, line, snippet): the field must hold the
value, and the quoted Chinese snippet must stand in the seed within two lines of the cited line
(the seed's line breaks are an artefact of its extraction). A second test makes the table complete:
every value a scenario file cites a seed line for (on the same line, not marked ASSUMPTION) has a row.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest

from actuarial import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
S001 = "001_8ded97e80ac52be5.txt"


def _seed_dir() -> Path | None:
    """The policy texts sit beside the repository (../shared/seeds), or two levels up for a worktree."""
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared" / "seeds" / S001).is_file():
            return base / "shared" / "seeds"
    return None


SEEDS = _seed_dir()

FACTS = [
    # --- provincial guideline (001 l.150-235)
    ("provincial_guideline.toml", "funding.per_capita.urban", 29, S001, 163, "城镇居民大病保险筹资标准为29元/人·年"),
    ("provincial_guideline.toml", "funding.per_capita.ncms", 25, S001, 163, "新农合大病保险筹资标准为25元/人·年"),
    ("provincial_guideline.toml", "cii.deductible", 8000, S001, 177, "起付线为8000元"),
    ("provincial_guideline.toml", "cii.cap", 220_000, S001, 177, "支付限额为22万元"),
    ("provincial_guideline.toml", "cii.includes_basic_deductible", False, S001, 177, "起付线不含基本医疗保险起付标准以下个人负担部分"),
    ("provincial_guideline.toml", "cii.tier_edges", "excess", S001, 175, "超过起付线以上的部分,按费用高低分段确定支付比例"),
    ("provincial_guideline.toml", "cii.tiers.0.rate_percent", 50, S001, 175, "分段支付比例为50%-75%"),
    ("provincial_guideline.toml", "cii.tiers.3.rate_percent", 75, S001, 175, "分段支付比例为50%-75%"),
    ("provincial_guideline.toml", "contract.combined_fee_rate_percent", 5, S001, 207, "控制在大病保险筹资总额的5%以内"),
    ("provincial_guideline.toml", "contract.years", 3, S001, 205, "合同期限原则上不低于3年"),
    # --- national_2019_residents.toml: a template of later national rules (not seeds); the rules it carries over from 001
    ("national_2019_residents.toml", "cii.includes_basic_deductible", False, S001, 177, "起付线不含基本医疗保险起付标准以下个人负担部分"),
    ("national_2019_residents.toml", "contract.combined_fee_rate_percent", 5, S001, 207, "控制在大病保险筹资总额的5%以内"),
    ("national_2019_residents.toml", "contract.years", 3, S001, 205, "合同期限原则上不低于3年"),
    # --- national_2022_consolidated.toml: a template of later national rules (not seeds); the rules it carries over from 001
    ("national_2022_consolidated.toml", "cii.includes_basic_deductible", False, S001, 177, "起付线不含基本医疗保险起付标准以下个人负担部分"),
    ("national_2022_consolidated.toml", "contract.combined_fee_rate_percent", 5, S001, 207, "控制在大病保险筹资总额的5%以内"),
    ("national_2022_consolidated.toml", "contract.years", 3, S001, 205, "合同期限原则上不低于3年"),
    # --- Qinzhou 2016 (001 l.1045-1099)
    ("qinzhou_2016.toml", "funding.per_capita.merged", 33, S001, 1057, "保费为33元/人"),
    ("qinzhou_2016.toml", "cii.deductible", 6000, S001, 1077, "大病保险起付线为6000元"),
    ("qinzhou_2016.toml", "cii.includes_basic_deductible", False, S001, 1077, "此标准不含基本医疗保险起付费"),
    ("qinzhou_2016.toml", "cii.poor_deductible", 3000, S001, 1079, "大病保险起付线为3000元"),
    ("qinzhou_2016.toml", "cii.poor_points", 10, S001, 1079, "报销比例在同档次基础上提高10个百分点"),
    ("qinzhou_2016.toml", "cii.cap", 500_000, S001, 1085, "年度最高支付限额为50万元"),
    ("qinzhou_2016.toml", "cii.category_b_self_pay_percent", 15, S001, 1087, "分别先由个人自付15%、30%后"),
    ("qinzhou_2016.toml", "cii.category_c_self_pay_percent", 30, S001, 1087, "分别先由个人自付15%、30%后"),
    ("qinzhou_2016.toml", "cii.tier_edges", "excess", S001, 1063, "起付标准以上(元)"),
    ("qinzhou_2016.toml", "cii.tiers.0.rate_percent", 50, S001, 1067, "50%"),
    ("qinzhou_2016.toml", "cii.tiers.1.rate_percent", 60, S001, 1069, "60%"),
    ("qinzhou_2016.toml", "cii.tiers.2.rate_percent", 70, S001, 1071, "70%"),
    ("qinzhou_2016.toml", "cii.tiers.3.above", 60_000, S001, 1073, "60000以上"),
    ("qinzhou_2016.toml", "cii.tiers.3.rate_percent", 80, S001, 1075, "80%"),
    ("qinzhou_2016.toml", "cii.locations.out_of_province_referred.flat_rate_percent", 50, S001, 1081,
     "自治区外就医发生的超出大病起付线合规费用,大病保险统一支付50%"),
    ("qinzhou_2016.toml", "cii.locations.out_of_province_unreferred.flat_rate_percent", 40, S001, 1081,
     "未按规定转诊转院的,报销比例降低10个百分点"),   # 50 − 10
    ("qinzhou_2016.toml", "cii.locations.in_province_referred.points", -5, S001, 1083,
     "统筹地区外自治区内就医发生的超出大病起付线合规费用,报销比例在同档次基础上降低5个百分点"),
    ("qinzhou_2016.toml", "cii.locations.in_province_unreferred.points", -10, S001, 1083,
     "未按规定转诊转院的,报销比例在同档次基础上降低10个百分点"),
    # --- Daqing 2015, NCMS (001 l.763-999)
    ("daqing_2015_ncms.toml", "funding.per_capita.ncms", 20, S001, 879, "20"),
    ("daqing_2015_ncms.toml", "cii.deductible", 12_443, S001, 831, "12443"),
    ("daqing_2015_ncms.toml", "cii.tiers.0.rate_percent", 50, S001, 839, "新农合参合人员年度个人负担合规医疗费用超过大病保险起付线以上的,报销"),
    ("daqing_2015_ncms.toml", "cii.tiers.0.rate_percent", 50, S001, 841, "50%"),
    ("daqing_2015_ncms.toml", "cii.cap", 200_000, S001, 843, "年度累计最高支付限额"),
    ("daqing_2015_ncms.toml", "cii.scope", ("cancer_radio_chemo", "uremia_dialysis", "transplant_antirejection"),
     S001, 811, "恶性肿瘤放化疗、尿毒症透析治疗和脏器移植术后服用抗排异药品"),
    ("daqing_2015_ncms.toml", "claims.streams.2.disease", "cancer_radio_chemo", S001, 811, "恶性肿瘤放化疗"),
    ("daqing_2015_ncms.toml", "contract.combined_fee_rate_percent", 4, S001, 939, "大病保险年度资金结余原则上要控制在大病保险资金的"),
    ("daqing_2015_ncms.toml", "contract.combined_fee_rate_percent", 4, S001, 941, "4%"),
    ("daqing_2015_ncms.toml", "contract.surplus_cap_percent", 4, S001, 951, "时,商业保险机构获得"),
    ("daqing_2015_ncms.toml", "contract.surplus_cap_percent", 4, S001, 953, "4%"),
    ("daqing_2015_ncms.toml", "contract.years", 3, S001, 983, "3"),
    ("daqing_2015_ncms.toml", "contract.pools", "by_region", S001, 889, "全市城镇居民大病保险为一个统筹单位"),
    ("daqing_2015_ncms.toml", "contract.pools", "by_region", S001, 889, "肇州县及肇源县新农合为一个统筹单位"),
    ("daqing_2015_ncms.toml", "contract.bond.withheld_percent", 10, S001, 919, "10%"),
    ("daqing_2015_ncms.toml", "contract.payment_schedule.0.percent", 50, S001, 907, "50%"),
    ("daqing_2015_ncms.toml", "contract.payment_schedule.0.due", "03-31", S001, 903, "31"),
    ("daqing_2015_ncms.toml", "contract.payment_schedule.1.percent", 40, S001, 915, "40%"),
    ("daqing_2015_ncms.toml", "contract.payment_schedule.1.due", "08-31", S001, 909, "8"),
    ("daqing_2015_ncms.toml", "contract.payment_schedule.2.percent", 10, S001, 919, "作为履约保证金"),
    ("daqing_2015_ncms.toml", "contract.payment_schedule.2.due", "11-30", S001, 923, "11"),
    ("daqing_2015_ncms.toml", "contract.payment_schedule.2.due", "11-30", S001, 925, "30"),
    # --- Daqing 2015, urban residents
    ("daqing_2015_urban.toml", "funding.per_capita.urban", 25, S001, 875, "25"),
    ("daqing_2015_urban.toml", "funding.per_capita.urban", 25, S001, 873, "城镇居民医保和新农合大病保险年度筹资标准暂分别定为每人"),
    ("daqing_2015_urban.toml", "cii.deductible", 18_000, S001, 823, "18000"),
    ("daqing_2015_urban.toml", "cii.cap", 200_000, S001, 863, "年度累计最高支付限额"),
    ("daqing_2015_urban.toml", "cii.cap", 200_000, S001, 865, "20"),
    ("daqing_2015_urban.toml", "cii.tiers.0.rate_percent", 50, S001, 853, "50%"),
    ("daqing_2015_urban.toml", "cii.tiers.1.above", 100_000, S001, 857, "10"),
    ("daqing_2015_urban.toml", "cii.tiers.1.above", 100_000, S001, 859, "万元的部分,报销"),
    ("daqing_2015_urban.toml", "cii.tiers.1.rate_percent", 55, S001, 861, "55%"),
    ("daqing_2015_urban.toml", "cii.tier_edges", "accumulation", S001, 855, ";超过"),
    ("daqing_2015_urban.toml", "cii.scope", ("cancer_radio_chemo", "uremia_dialysis", "transplant_antirejection"),
     S001, 811, "恶性肿瘤放化疗、尿毒症透析治疗和脏器移植术后服用抗排异药品"),
    ("daqing_2015_urban.toml", "claims.streams.2.disease", "cancer_radio_chemo", S001, 811, "恶性肿瘤放化疗"),
    ("daqing_2015_urban.toml", "contract.combined_fee_rate_percent", 4, S001, 941, "4%"),
    ("daqing_2015_urban.toml", "contract.surplus_cap_percent", 4, S001, 953, "4%"),
    ("daqing_2015_urban.toml", "contract.years", 3, S001, 983, "3"),
    ("daqing_2015_urban.toml", "contract.bond.withheld_percent", 10, S001, 919, "10%"),
    ("daqing_2015_urban.toml", "contract.payment_schedule.0.percent", 50, S001, 907, "50%"),
    ("daqing_2015_urban.toml", "contract.payment_schedule.1.percent", 40, S001, 915, "40%"),
    # --- Shanghai (001 l.537-575)
    ("shanghai.toml", "funding.basic_fund_share_percent", 2, S001, 543, "城乡居民医保基金筹资总额的2%左右"),
    ("shanghai.toml", "cii.tiers.0.rate_percent", 55, S001, 551, "由大病保险资金报销55%"),
    ("shanghai.toml", "cii.deductible", 0, S001, 551, "在基本医疗保险报销后,参保居民在基本医疗保险政策范围内个人自负的费用"),
    ("shanghai.toml", "cii.includes_basic_deductible", True, S001, 551, "在基本医疗保险政策范围内个人自负的费用"),
    ("shanghai.toml", "cii.scope", ("uremia_dialysis", "transplant_antirejection", "cancer_radio_chemo",
                                    "cancer_other_listed", "mental_illness_listed"), S001, 547, "纳入城乡居民大病保险范围"),
    ("shanghai.toml", "cii.scope.0", "uremia_dialysis", S001, 547, "重症尿毒症透析治疗"),
    ("shanghai.toml", "cii.scope.1", "transplant_antirejection", S001, 547, "肾移植抗排异治疗"),
    ("shanghai.toml", "cii.scope.2", "cancer_radio_chemo", S001, 547, "化学治疗、内分泌特异治疗、放射治疗"),
    ("shanghai.toml", "cii.scope.3", "cancer_other_listed", S001, 547, "同位素治疗、介入治疗、中医治疗"),
    ("shanghai.toml", "cii.scope.4", "mental_illness_listed", S001, 547,
     "精神分裂症、中重度抑郁症、躁狂症、强迫症、精神发育迟缓伴发精神障碍、癫痫伴发精神障碍、偏执性精神病"),
    ("shanghai.toml", "cii.locations.in_province_referred.flat_rate_percent", 0, S001, 551, "在本市基本医疗保险定点医疗机构发生"),
    ("shanghai.toml", "cii.locations.in_province_unreferred.flat_rate_percent", 0, S001, 551, "在本市基本医疗保险定点医疗机构发生"),
    ("shanghai.toml", "cii.locations.out_of_province_referred.flat_rate_percent", 0, S001, 551, "在本市基本医疗保险定点医疗机构发生"),
    ("shanghai.toml", "cii.locations.out_of_province_unreferred.flat_rate_percent", 0, S001, 551, "在本市基本医疗保险定点医疗机构发生"),
    ("shanghai.toml", "contract.combined_fee_rate_percent", 5, S001, 567, "商业保险机构盈利率控制在5%以内"),
    ("shanghai.toml", "contract.years", 3, S001, 563, "合同期限原则上不低于三年"),
    # --- Henan 2013 (001 l.701-761)
    ("henan_2013_urban.toml", "funding.basic_fund_share_percent", 6, S001, 717, "当年城镇居民医保和新农合筹资标准的6%左右"),
    ("henan_2013_ncms.toml", "funding.basic_fund_share_percent", 6, S001, 717, "当年城镇居民医保和新农合筹资标准的6%左右"),
    ("henan_2013_urban.toml", "contract.years", 3, S001, 741, "合作期限原则不低于3年"),
    ("henan_2013_ncms.toml", "contract.years", 3, S001, 741, "合作期限原则不低于3年"),
    ("henan_2013_urban.toml", "cii.tiers.0.rate_percent", 50, S001, 727, "实际支付比例不低于50%"),
    ("henan_2013_ncms.toml", "cii.tiers.0.rate_percent", 50, S001, 727, "实际支付比例不低于50%"),
    ("henan_2013_urban.toml", "claims.compliant_percent.tertiary", 100, S001, 725, "不局限于基本医保政策范围内"),
    ("henan_2013_ncms.toml", "claims.compliant_percent.tertiary", 100, S001, 725, "不局限于基本医保政策范围内"),
    # --- national guideline 2012 (001 l.337-407)
    ("national_2012_urban.toml", "contract.years", 3, S001, 371, "合作期限原则不低于3年"),
    ("national_2012_ncms.toml", "contract.years", 3, S001, 371, "合作期限原则不低于3年"),
    ("national_2012_urban.toml", "cii.tiers.0.rate_percent", 50, S001, 365, "实际支付比例不低于50%"),
    ("national_2012_ncms.toml", "cii.tiers.0.rate_percent", 50, S001, 365, "实际支付比例不低于50%"),
    ("national_2012_urban.toml", "claims.compliant_percent.tertiary", 100, S001, 363, "指实际发生的、合理的医疗费用"),
    ("national_2012_ncms.toml", "claims.compliant_percent.tertiary", 100, S001, 363, "指实际发生的、合理的医疗费用"),
    # --- national 2016 notice (001 l.409-449)
    ("national_2016_notice.toml", "funding.per_capita.merged", 40, S001, 419, "人均新增40元中的10元用于大病保险"),  # 30 + 10
    ("national_2016_notice.toml", "cii.poor_points", 10, S001, 423, "实行倾斜性支付政策"),
    ("national_2016_notice.toml", "cii.poor_points", 10, S001, 1079, "提高10个百分点"),     # the tilt taken from Qinzhou
    ("national_2016_notice.toml", "cii.poor_deductible", 4000, S001, 1079, "大病保险起付线为3000元"),  # half, as 3,000 of 6,000
    ("national_2016_notice.toml", "contract.years", 3, S001, 371, "合作期限原则不低于3年"),
    # --- default county (illustrative; the rules it borrows)
    ("default_county.toml", "cii.includes_basic_deductible", False, S001, 177, "起付线不含基本医疗保险起付标准以下个人负担部分"),
    ("default_county.toml", "contract.years", 3, S001, 205, "合同期限原则上不低于3年"),
    ("default_county.toml", "cii.tiers.0.rate_percent", 50, S001, 365, "实际支付比例不低于50%"),
]


def get(sc, dotted: str):
    """The value at a dotted path of a scenario (attributes, dict keys, tuple indices)."""
    node = sc
    for key in dotted.split("."):
        if isinstance(node, (list, tuple)):
            node = node[int(key)]
        elif isinstance(node, dict):
            node = node[key]
        else:
            node = getattr(node, key)
    return node


@lru_cache(maxsize=None)
def seed_lines(name: str) -> tuple[str, ...]:
    return tuple((SEEDS / name).read_text(encoding="utf-8").splitlines())


@lru_cache(maxsize=None)
def scenario(name: str):
    return load_scenario(SCENARIOS / name)


@pytest.mark.parametrize("name, field, value, seed, line, snippet", FACTS,
                         ids=[f"{f[0]}:{f[1]}@{f[4]}" for f in FACTS])
def test_value_and_seed_line(name, field, value, seed, line, snippet):
    got = get(scenario(name), field)
    assert got == value, f"{name}: {field} is {got!r}, the table (seed line {line}) says {value!r}"
    if SEEDS is None:
        pytest.skip("the seed texts are not beside this checkout")
    lines = seed_lines(seed)
    window = lines[max(line - 3, 0): line + 2]
    assert any(snippet in text for text in window), f"{snippet!r} not within 2 lines of {seed}:{line}"


CITED = re.compile(r"^\s*(\w+)\s*=\s*[^#]+#(?P<comment>.*\blines? \d+.*)$")


def cited_keys(path: Path) -> list[str]:
    """Keys whose value line cites a seed line and is not marked an ASSUMPTION."""
    out = []
    for text in path.read_text(encoding="utf-8").splitlines():
        m = CITED.match(text)
        if m and "ASSUMPTION" not in m.group("comment") and not text.lstrip().startswith("name"):
            out.append(m.group(1))
    return out


@pytest.mark.parametrize("name", sorted(p.name for p in SCENARIOS.glob("*.toml")))
def test_every_cited_value_is_in_the_table(name):
    fields = [f for f in FACTS if f[0] == name]
    for key in cited_keys(SCENARIOS / name):
        assert any(key in f[1].split(".") for f in fields), f"{name}: '{key}' cites a seed line but has no row in FACTS"


def test_the_table_covers_every_programme():
    assert {f[0] for f in FACTS} == {p.name for p in SCENARIOS.glob("*.toml")}


def test_provincial_guideline_is_a_province():
    """l.167: "城乡居民大病保险实行省级统筹": one pool for the province, so tens of millions of insured."""
    assert scenario("provincial_guideline.toml").population.size >= 10_000_000
    if SEEDS is not None:
        assert "城乡居民大病保险实行省级统筹" in seed_lines(S001)[167 - 1]
