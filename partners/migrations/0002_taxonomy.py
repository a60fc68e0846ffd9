"""Load the shipped taxonomy (partners/taxonomy.py). Re-runnable: upserts by code."""

from django.db import migrations


def load_taxonomy(apps, schema_editor):
    from partners.taxonomy import TAXONOMY, leaf_codes, parent_code

    Category = apps.get_model("partners", "Category")
    leaves = set(leaf_codes())
    by_code = {}
    for code, name_zh, name_en in TAXONOMY:
        parent = by_code.get(parent_code(code))
        obj, _ = Category.objects.update_or_create(
            code=code,
            defaults={"name_zh": name_zh, "name_en": name_en, "parent": parent, "is_leaf": code in leaves},
        )
        by_code[code] = obj


class Migration(migrations.Migration):
    dependencies = [("partners", "0001_initial")]
    operations = [migrations.RunPython(load_taxonomy, migrations.RunPython.noop)]
