"""The sales-line model moves here from ``sop`` (state only): its table ``sop_salesorderline``,
its data, indexes, constraints and reference guards stay as they are. ``sop.0010`` removes
the model from sop's state once this one declares it."""

import core.db
import django.db.models.deletion
import django.db.models.functions.datetime
from django.db import migrations, models


def _move_content_type(apps, source: str, target: str) -> None:
    """Keep the model's content type (permissions, admin log entries) under its new app."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label=target, model="salesorderline").exists():
        ContentType.objects.filter(app_label=source, model="salesorderline").update(app_label=target)


def content_type_to_sales(apps, schema_editor):
    _move_content_type(apps, "sop", "sales")


def content_type_to_sop(apps, schema_editor):
    _move_content_type(apps, "sales", "sop")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('inventory', '0002_inventorylot_inventorypolicy_inventorysnapshot'),
        ('territories', '0003_quotatarget'),
        ('sop', '0009_demand_plan_no_territory'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.CreateModel(
            name='SalesOrderLine',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('external_id', core.db.ByteOrderCharField(max_length=64)),
                ('order_date', models.DateField()),
                ('ship_date', models.DateField(blank=True, null=True)),
                ('quantity', models.DecimalField(decimal_places=3, max_digits=16)),
                ('net_amount', models.DecimalField(decimal_places=2, max_digits=16)),
                ('status', models.CharField(choices=[('booked', 'Booked'), ('shipped', 'Shipped'), ('invoiced', 'Invoiced'), ('returned', 'Returned'), ('cancelled', 'Cancelled')], max_length=10)),
                ('created_at', models.DateTimeField(auto_now_add=True, db_default=django.db.models.functions.datetime.Now())),
                ('updated_at', models.DateTimeField(auto_now=True, db_default=django.db.models.functions.datetime.Now())),
                ('account', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='sales_lines', to='territories.account')),
                ('product', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='sales_lines', to='inventory.product')),
                ('territory', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='sales_lines', to='territories.territory')),
            ],
            options={
                'db_table': 'sop_salesorderline',
                'ordering': ['order_date', 'external_id'],
                'indexes': [core.db.DateRangeIndex(fields=['order_date'], name='sales_line_order_date_range'), core.db.DateRangeIndex(fields=['updated_at'], name='sales_line_updated_range')],
                'constraints': [models.UniqueConstraint(fields=('external_id',), name='sales_line_external_id_unique'), models.CheckConstraint(condition=models.Q(models.Q(('status', 'returned'), ('quantity__lt', 0), ('net_amount__lte', 0)), models.Q(models.Q(('status', 'returned'), _negated=True), ('quantity__gt', 0), ('net_amount__gte', 0)), _connector='OR'), name='sales_line_sign_by_status', violation_error_message='Returned lines carry a negative quantity and amount; other lines a positive quantity and a non-negative amount.'), models.CheckConstraint(condition=models.Q(('status__in', ['booked', 'shipped', 'invoiced', 'returned', 'cancelled'])), name='sales_line_status_valid'), models.CheckConstraint(condition=models.Q(('ship_date__isnull', True), ('ship_date__gte', models.F('order_date')), _connector='OR'), name='sales_line_ships_after_order')],
            },
        )]),
        migrations.RunPython(content_type_to_sales, content_type_to_sop, elidable=True),
    ]
