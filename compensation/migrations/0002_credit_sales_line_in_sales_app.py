"""Credits point at the sales line model in its new app (``sales``); the table and its foreign
key are unchanged (state only)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('compensation', '0001_initial'),
        ('sales', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='credit',
                name='sales_line',
                field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='credits',
                                        to='sales.salesorderline'),
            ),
        ]),
    ]
